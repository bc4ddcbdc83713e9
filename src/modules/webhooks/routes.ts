import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { errors } from "../shared/model.ts";
import {
  CreatedWebhook,
  CreateWebhookBody,
  DeliveryList,
  PageQuery,
  WebhookEnvelope,
  WebhookList,
  WebhookParams,
} from "./model.ts";
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks } from "./service.ts";

const security = [{ Token: [] }];

export const webhooksRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/webhooks", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .post(
      "/api/admin/webhooks",
      async ({ body, status, viewer, request }) =>
        status(201, await createWebhook(ctx, body, { id: viewer.id, ip: clientOf(request).ip })),
      {
        admin: true,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...errors(401, 403, 413, 415, 422) },
        detail: {
          summary: "Register a webhook endpoint",
          description:
            "Returns the endpoint with its signing secret (`whsec_…`, Standard Webhooks), shown only in this answer. URLs that are not http(s) or resolve to loopback, private, link-local or other non-public addresses are refused (422).",
          security,
        },
      },
    )
    .get("/api/admin/webhooks", ({ query }) => listWebhooks(ctx, query), {
      admin: true,
      query: PageQuery,
      response: { 200: WebhookList, ...errors(401, 403, 422) },
      detail: { summary: "List webhook endpoints", description: "Secrets are masked.", security },
    })
    .get("/api/admin/webhooks/:id", ({ params }) => getWebhook(ctx, Number(params.id)), {
      admin: true,
      params: WebhookParams,
      response: { 200: WebhookEnvelope, ...errors(401, 403, 404, 422) },
      detail: { summary: "Get a webhook endpoint", security },
    })
    .delete(
      "/api/admin/webhooks/:id",
      ({ params, set, viewer, request }) => {
        deleteWebhook(ctx, Number(params.id), { id: viewer.id, ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        admin: true,
        params: WebhookParams,
        response: { 204: t.Void({ description: "Deleted" }), ...errors(401, 403, 404, 422) },
        detail: { summary: "Delete a webhook endpoint", security },
      },
    )
    .get(
      "/api/admin/webhooks/:id/deliveries",
      ({ params, query }) => listDeliveries(ctx, Number(params.id), query),
      {
        admin: true,
        params: WebhookParams,
        query: PageQuery,
        response: { 200: DeliveryList, ...errors(401, 403, 404, 422) },
        detail: {
          summary: "Delivery log of an endpoint",
          description: "Every attempt, newest first, with status code, error and duration.",
          security,
        },
      },
    );

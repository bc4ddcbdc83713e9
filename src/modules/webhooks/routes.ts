import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { clientOf } from "../../http/client-ip.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import {
  CreatedWebhook,
  CreateWebhookBody,
  DeliveryList,
  MAX_WEBHOOKS,
  PageQuery,
  WebhookEnvelope,
  WebhookList,
  WebhookParams,
} from "./model.ts";
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks } from "./service.ts";

const noSuchWebhook = errorDoc("No webhook endpoint has this id", { webhook: ["not found"] });

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
        response: {
          201: CreatedWebhook,
          422: errorDoc(
            "The URL is refused (not http(s), credentials in it, unresolvable, or a non-public address), an event is unknown, or the endpoint limit is reached",
            { url: ["resolves to a non-public address (private)"] },
            { url: ["must use http or https"] },
            { events: ["is invalid"] },
            { webhooks: [`limit of ${MAX_WEBHOOKS} endpoints reached`] },
          ),
        },
        detail: {
          summary: "Register a webhook endpoint",
          description: `Returns the endpoint with its signing secret (\`whsec_…\`, Standard Webhooks), shown only in this answer. The chosen events are then POSTed to the URL, signed, with retries and a circuit breaker. URLs that are not http(s) or resolve to loopback, private, link-local or other non-public addresses are refused (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set); at most ${MAX_WEBHOOKS} endpoints. Audited.`,
          security: security.admin,
        },
      },
    )
    .get("/api/admin/webhooks", ({ query }) => listWebhooks(ctx, query), {
      admin: true,
      query: PageQuery,
      response: { 200: WebhookList },
      detail: {
        summary: "List webhook endpoints",
        description:
          "Oldest first, with each endpoint's circuit-breaker state. Secrets are masked (their last four characters show).",
        security: security.admin,
      },
    })
    .get("/api/admin/webhooks/:id", ({ params }) => getWebhook(ctx, Number(params.id)), {
      admin: true,
      params: WebhookParams,
      response: { 200: WebhookEnvelope, 404: noSuchWebhook },
      detail: {
        summary: "Get a webhook endpoint",
        description: "One endpoint, its secret masked, with its circuit-breaker state.",
        security: security.admin,
      },
    })
    .delete(
      "/api/admin/webhooks/:id",
      async ({ params, set, viewer, request }) => {
        await deleteWebhook(ctx, Number(params.id), { id: viewer.id, ip: clientOf(request).ip });
        set.status = 204;
      },
      {
        admin: true,
        params: WebhookParams,
        response: { 204: t.Void({ description: "Deleted" }), 404: noSuchWebhook },
        detail: {
          summary: "Delete a webhook endpoint",
          description:
            "Stops deliveries to it and drops its delivery log; deliveries already queued find it gone and end. Audited.",
          security: security.admin,
        },
      },
    )
    .get(
      "/api/admin/webhooks/:id/deliveries",
      ({ params, query }) => listDeliveries(ctx, Number(params.id), query),
      {
        admin: true,
        params: WebhookParams,
        query: PageQuery,
        response: { 200: DeliveryList, 404: noSuchWebhook },
        detail: {
          summary: "Delivery log of an endpoint",
          description:
            "Every attempt, newest first, with the receiver's status code, the error and the duration. `limit` defaults to 20, capped at 100.",
          security: security.admin,
        },
      },
    );

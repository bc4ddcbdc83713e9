/** Request and response schemas of the webhooks admin API. */
import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { Pagination } from "../../http/model.ts";
import { webhookEvents } from "./events.ts";

export { MAX_WEBHOOKS } from "./service.ts";

export const CreateWebhookBody = t.Object(
  {
    url: t.String({ minLength: 1, maxLength: 2048, description: "http(s) URL on the public internet" }),
    events: t.Array(t.Union(webhookEvents.map((e) => t.Literal(e))), {
      minItems: 1,
      maxItems: webhookEvents.length,
      uniqueItems: true,
      description: `Any of: ${webhookEvents.join(", ")}`,
    }),
  },
  {
    additionalProperties: false,
    examples: [{ url: "https://93.184.215.14/hooks/quire", events: ["article.created", "comment.created"] }],
  },
);

const WebhookFields = {
  id: t.Integer(),
  url: t.String(),
  events: t.Array(t.String()),
  enabled: t.Boolean(),
  createdAt: t.String({ format: "date-time" }),
  circuit: t.String({ description: "closed | open | halfOpen | isolated: the endpoint's circuit breaker" }),
};

export const Webhook = component(
  "Webhook",
  t.Object({
    ...WebhookFields,
    secret: t.String({ description: "Masked: the full secret is shown once, when the endpoint is created" }),
  }),
);

const webhookExample = {
  id: 3,
  url: "https://93.184.215.14/hooks/quire",
  events: ["article.created", "comment.created"],
  enabled: true,
  createdAt: "2026-02-18T10:15:00.000Z",
  circuit: "closed",
  secret: "whsec_********5uc=",
};

export const CreatedWebhook = t.Object(
  {
    webhook: t.Object({
      ...WebhookFields,
      secret: t.String({ description: "`whsec_…`: keep it, it is not shown again" }),
    }),
  },
  {
    description: "The endpoint, with its whole signing secret: shown only in this answer",
    examples: [
      { webhook: { ...webhookExample, secret: "whsec_yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc=" } },
    ],
  },
);
export const WebhookEnvelope = t.Object(
  { webhook: Webhook },
  { description: "The endpoint, its secret masked", examples: [{ webhook: webhookExample }] },
);
export const WebhookList = t.Object(
  { webhooks: t.Array(Webhook), webhooksCount: t.Integer() },
  {
    description: "A page of endpoints, secrets masked, and the total",
    examples: [{ webhooks: [webhookExample], webhooksCount: 1 }],
  },
);

export const Delivery = component(
  "WebhookDelivery",
  t.Object({
    id: t.Integer(),
    messageId: t.String({
      description: "The `webhook-id` header: the same for every attempt of one message",
    }),
    event: t.String(),
    attempt: t.Integer(),
    statusCode: t.Nullable(t.Integer({ description: "The receiver's HTTP status; null if none came back" })),
    ok: t.Boolean(),
    error: t.Nullable(t.String()),
    durationMs: t.Nullable(t.Integer()),
    createdAt: t.String({ format: "date-time" }),
  }),
);

const delivery = {
  id: 12,
  messageId: "msg_4Rk9bWl2pQe0dXz8Y1sVaA",
  event: "article.created",
  attempt: 2,
  statusCode: 200,
  ok: true,
  error: null,
  durationMs: 84,
  createdAt: "2026-02-18T10:21:04.215Z",
};
export const DeliveryList = t.Object(
  { deliveries: t.Array(Delivery), deliveriesCount: t.Integer() },
  {
    description: "A page of delivery attempts, newest first, and the total",
    examples: [
      {
        deliveries: [
          delivery,
          {
            ...delivery,
            id: 11,
            attempt: 1,
            statusCode: 503,
            ok: false,
            error: "HTTP 503",
            durationMs: 1210,
            createdAt: "2026-02-18T10:20:58.002Z",
          },
        ],
        deliveriesCount: 2,
      },
    ],
  },
);

export const WebhookParams = t.Object({
  id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Webhook endpoint id" }),
});
export const PageQuery = t.Object(Pagination);

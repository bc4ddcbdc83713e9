/** Request and response schemas of the webhooks admin API. */
import { t } from "elysia";
import { Pagination } from "../shared/model.ts";
import { webhookEvents } from "./events.ts";

export const MAX_WEBHOOKS = 50;

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
  { additionalProperties: false },
);

const WebhookFields = {
  id: t.Integer(),
  url: t.String(),
  events: t.Array(t.String()),
  enabled: t.Boolean(),
  createdAt: t.String(),
  circuit: t.String({ description: "closed | open | halfOpen | isolated: the endpoint's circuit breaker" }),
};

export const Webhook = t.Object({
  ...WebhookFields,
  secret: t.String({ description: "Masked: the full secret is shown once, when the endpoint is created" }),
});
export const CreatedWebhook = t.Object({
  webhook: t.Object({
    ...WebhookFields,
    secret: t.String({ description: "`whsec_…`: keep it, it is not shown again" }),
  }),
});
export const WebhookEnvelope = t.Object({ webhook: Webhook });
export const WebhookList = t.Object({ webhooks: t.Array(Webhook), webhooksCount: t.Integer() });

export const Delivery = t.Object({
  id: t.Integer(),
  messageId: t.String(),
  event: t.String(),
  attempt: t.Integer(),
  statusCode: t.Nullable(t.Integer()),
  ok: t.Boolean(),
  error: t.Nullable(t.String()),
  durationMs: t.Nullable(t.Integer()),
  createdAt: t.String(),
});
export const DeliveryList = t.Object({ deliveries: t.Array(Delivery), deliveriesCount: t.Integer() });

export const WebhookParams = t.Object({ id: t.String({ pattern: "^[1-9][0-9]{0,14}$" }) });
export const PageQuery = t.Object(Pagination);

/** Webhooks: the delivery job (the outbox that enqueues deliveries is registered in src/listeners.ts). */
import type { AppContext } from "../../context.ts";
import { exponentialBackoff } from "../../lib/queue.ts";
import { deliverWebhook } from "./deliver.ts";
import { type DeliveryPayload, WEBHOOK_DELIVER } from "./events.ts";

/** 10 s, 40 s, 2.7 min, 11 min, 43 min, 2.8 h, 11 h, then 12 h: a receiver down for a day still gets it. */
export const webhookBackoff = exponentialBackoff(10_000, 12 * 3_600_000, 4);

export function setupWebhooks(ctx: AppContext): void {
  ctx.jobs.register<DeliveryPayload>(WEBHOOK_DELIVER, (job) => deliverWebhook(ctx, job), {
    maxAttempts: ctx.config.WEBHOOK_MAX_ATTEMPTS,
    backoff: webhookBackoff,
  });
}

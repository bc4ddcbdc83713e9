/**
 * Domain events → webhook deliveries (outbox). In the transaction of the write, each enabled endpoint that
 * subscribed to the event gets one `webhook.deliver` job carrying the exact body to send, so retries send the
 * same bytes and a rolled-back write sends nothing. `*.deleted` events arrive before the row is deleted, so the
 * payload still describes what was deleted.
 */
import type { AppContext } from "../../context.ts";
import type { DomainEvent } from "../../events.ts";
import type { EventHandler } from "../../lib/event-bus.ts";
import type { WriteTx } from "../../store/store.ts";
import { newMessageId } from "./signing.ts";

export const webhookEvents = [
  "article.created",
  "article.updated",
  "article.deleted",
  "comment.created",
  "comment.deleted",
  "user.created",
] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

export const WEBHOOK_DELIVER = "webhook.deliver";

export interface DeliveryPayload {
  webhookId: number;
  messageId: string;
  event: WebhookEvent;
  body: string;
}

type Subscribed = Extract<DomainEvent, { type: WebhookEvent }>;

const isWebhookEvent = (e: DomainEvent): e is Subscribed =>
  (webhookEvents as readonly string[]).includes(e.type);

const iso = (ms: number) => new Date(ms).toISOString();

/** What the receiver gets in `data`: public facts only (no email addresses, no ids of private rows). */
async function dataFor(tx: WriteTx, e: Subscribed): Promise<Record<string, unknown> | undefined> {
  switch (e.type) {
    case "article.created":
    case "article.updated":
    case "article.deleted": {
      const a = await tx.articles.bySlug(e.slug);
      if (!a) return undefined;
      return {
        article: {
          slug: a.slug,
          title: a.title,
          description: a.description,
          body: a.body,
          tagList: e.tags,
          author: { username: a.authorUsername },
          createdAt: iso(a.createdAt),
          updatedAt: iso(a.updatedAt),
        },
        ...(e.type === "article.updated" && e.previousSlug !== e.slug && { previousSlug: e.previousSlug }),
      };
    }
    case "comment.created":
    case "comment.deleted": {
      const c = e.comment;
      return {
        comment: {
          id: c.id,
          body: c.body,
          createdAt: iso(c.createdAt),
          author: { username: c.author.username },
        },
        article: { slug: e.slug },
      };
    }
    case "user.created":
      return { user: { username: e.username } };
  }
}

/** The outbox: one delivery job per subscribed endpoint, in the write's unit of work; workers woken after. */
export function webhookOutbox(ctx: AppContext): EventHandler<DomainEvent, WriteTx> {
  /** Events whose unit enqueued deliveries: only those wake the workers (a wake costs a claim). */
  const enqueued = new WeakSet<DomainEvent>();
  return {
    async inTransaction(tx, e) {
      if (!isWebhookEvent(e)) return;
      const endpoints = await tx.webhooks.subscribedTo(e.type);
      if (endpoints.length === 0) return;
      const data = await dataFor(tx, e);
      if (!data) return;
      const body = JSON.stringify({ type: e.type, timestamp: iso(ctx.clock.now()), data });
      for (const webhookId of endpoints) {
        const payload: DeliveryPayload = { webhookId, messageId: newMessageId(), event: e.type, body };
        await ctx.jobs.enqueue(tx, WEBHOOK_DELIVER, payload);
      }
      enqueued.add(e);
    },
    afterCommit(e) {
      if (enqueued.has(e)) ctx.jobs.wake();
    },
  };
}

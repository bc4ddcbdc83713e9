/**
 * Domain events → webhook deliveries (outbox). In the transaction of the write, each enabled endpoint that
 * subscribed to the event gets one `webhook.deliver` job carrying the exact body to send, so retries send the
 * same bytes and a rolled-back write sends nothing. `*.deleted` events arrive before the row is deleted, so the
 * payload still describes what was deleted.
 */
import type { AppContext } from "../../context.ts";
import type { DomainEvent } from "../../events.ts";
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
function dataFor(ctx: AppContext, e: Subscribed): Record<string, unknown> | undefined {
  switch (e.type) {
    case "article.created":
    case "article.updated":
    case "article.deleted": {
      const a = ctx.sqlite
        .query<
          {
            slug: string;
            title: string;
            description: string;
            body: string;
            created_at: number;
            updated_at: number;
            author: string;
          },
          [number]
        >(
          `SELECT a.slug, a.title, a.description, a.body, a.created_at, a.updated_at, u.username AS author
           FROM articles a JOIN users u ON u.id = a.author_id WHERE a.id = ?`,
        )
        .get(e.articleId);
      if (!a) return undefined;
      return {
        article: {
          slug: a.slug,
          title: a.title,
          description: a.description,
          body: a.body,
          tagList: e.tags,
          author: { username: a.author },
          createdAt: iso(a.created_at),
          updatedAt: iso(a.updated_at),
        },
        ...(e.type === "article.updated" && e.previousSlug !== e.slug && { previousSlug: e.previousSlug }),
      };
    }
    case "comment.created":
    case "comment.deleted": {
      const c = ctx.sqlite
        .query<{ id: number; body: string; created_at: number; author: string }, [number]>(
          `SELECT c.id, c.body, c.created_at, u.username AS author
           FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = ?`,
        )
        .get(e.commentId);
      if (!c) return undefined;
      return {
        comment: { id: c.id, body: c.body, createdAt: iso(c.created_at), author: { username: c.author } },
        article: { slug: e.slug },
      };
    }
    case "user.created":
      return { user: { username: e.username } };
  }
}

/** Enabled endpoints subscribed to `event` (the events column is a JSON array). */
function endpointsFor(ctx: AppContext, event: string): number[] {
  return ctx.sqlite
    .query<{ id: number }, [string]>(
      `SELECT id FROM webhooks WHERE enabled = 1
       AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?)`,
    )
    .all(event)
    .map((r) => r.id);
}

export function subscribeWebhooks(ctx: AppContext): void {
  ctx.events.on({
    inTransaction(_tx, e) {
      if (!isWebhookEvent(e)) return;
      const endpoints = endpointsFor(ctx, e.type);
      if (endpoints.length === 0) return;
      const data = dataFor(ctx, e);
      if (!data) return;
      const body = JSON.stringify({ type: e.type, timestamp: iso(ctx.clock.now()), data });
      for (const webhookId of endpoints) {
        const payload: DeliveryPayload = { webhookId, messageId: newMessageId(), event: e.type, body };
        ctx.jobs.enqueue(WEBHOOK_DELIVER, payload);
      }
    },
    afterCommit(e) {
      if (isWebhookEvent(e)) ctx.jobs.wake();
    },
  });
}

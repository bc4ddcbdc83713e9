/** Managing webhook endpoints (admins only, enforced by the routes) and reading their delivery log. */

import { CircuitState } from "cockatiel";
import { count, desc, eq } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { webhookDeliveries, webhooks } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../errors.ts";
import { SsrfError, vetUrl } from "../../lib/ssrf.ts";
import { type AdminActor, auditAdmin } from "../jobs/audit.ts";
import { pageOf } from "../shared/model.ts";
import { breakerFor, forgetBreaker } from "./deliver.ts";
import { MAX_WEBHOOKS } from "./model.ts";
import { generateSecret, maskSecret } from "./signing.ts";

type Row = typeof webhooks.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();

function view(ctx: AppContext, row: Row, secret: string) {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    enabled: row.enabled,
    createdAt: iso(row.createdAt),
    circuit: CircuitState[breakerFor(ctx, row.id).state].replace(/^./, (c) => c.toLowerCase()),
    secret,
  };
}

/** Refuse URLs that are not http(s) or that resolve to non-public addresses (422 naming `url`). */
async function checkUrl(ctx: AppContext, url: string): Promise<void> {
  try {
    await vetUrl(url, { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS });
  } catch (err) {
    if (err instanceof SsrfError) throw invalid("url", err.message);
    throw invalid("url", "could not be resolved");
  }
}

export async function createWebhook(
  ctx: AppContext,
  input: { url: string; events: string[] },
  actor?: AdminActor,
) {
  await checkUrl(ctx, input.url);
  const [{ n }] = ctx.db.select({ n: count() }).from(webhooks).all() as [{ n: number }];
  if (n >= MAX_WEBHOOKS)
    throw new AppError(422, { webhooks: [`limit of ${MAX_WEBHOOKS} endpoints reached`] });
  const secret = generateSecret();
  const row = ctx.db.transaction((tx) => {
    const [inserted] = tx
      .insert(webhooks)
      .values({ url: input.url, events: JSON.stringify(input.events), secret, createdAt: ctx.clock.now() })
      .returning()
      .all();
    // The URL is audited (it says where data goes); the secret never is.
    auditAdmin(ctx, "webhook.created", actor, { type: "webhook", id: inserted!.id }, { url: input.url }, tx);
    return inserted;
  });
  ctx.log.info({ webhookId: row!.id, events: input.events }, "webhook endpoint created");
  return { webhook: view(ctx, row!, secret) };
}

export function listWebhooks(ctx: AppContext, query: { limit?: string; offset?: string }) {
  const page = pageOf(query);
  const rows = ctx.db
    .select()
    .from(webhooks)
    .orderBy(webhooks.id)
    .limit(page.limit)
    .offset(page.offset)
    .all();
  const [{ n }] = ctx.db.select({ n: count() }).from(webhooks).all() as [{ n: number }];
  return { webhooks: rows.map((r) => view(ctx, r, maskSecret(r.secret))), webhooksCount: n };
}

function findWebhook(ctx: AppContext, id: number): Row {
  const row = ctx.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!row) throw notFound("webhook");
  return row;
}

export function getWebhook(ctx: AppContext, id: number) {
  const row = findWebhook(ctx, id);
  return { webhook: view(ctx, row, maskSecret(row.secret)) };
}

/** Deleting an endpoint drops its delivery log (cascade); its pending deliveries find it gone and finish. */
export function deleteWebhook(ctx: AppContext, id: number, actor?: AdminActor): void {
  const row = findWebhook(ctx, id);
  ctx.db.transaction((tx) => {
    tx.delete(webhooks).where(eq(webhooks.id, id)).run();
    auditAdmin(ctx, "webhook.deleted", actor, { type: "webhook", id }, { url: row.url }, tx);
  });
  forgetBreaker(ctx, id);
  ctx.log.info({ webhookId: id }, "webhook endpoint deleted");
}

export function listDeliveries(ctx: AppContext, id: number, query: { limit?: string; offset?: string }) {
  findWebhook(ctx, id);
  const page = pageOf(query);
  const rows = ctx.db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, id))
    .orderBy(desc(webhookDeliveries.id))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  const [{ n }] = ctx.db
    .select({ n: count() })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, id))
    .all() as [{ n: number }];
  return {
    deliveries: rows.map((d) => ({
      id: d.id,
      messageId: d.messageId,
      event: d.event,
      attempt: d.attempt,
      statusCode: d.statusCode,
      ok: d.ok,
      error: d.error,
      durationMs: d.durationMs,
      createdAt: iso(d.createdAt),
    })),
    deliveriesCount: n,
  };
}

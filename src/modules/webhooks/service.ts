/** Managing webhook endpoints (admins only, enforced by the routes) and reading their delivery log. */

import { CircuitState } from "cockatiel";
import type { AppContext } from "../../context.ts";
import { AppError, invalid, notFound } from "../../errors.ts";
import { pageOf } from "../../lib/paging.ts";
import { SsrfError, vetUrl } from "../../lib/ssrf.ts";
import type { WebhookRow } from "../../store/operations.ts";
import { type AdminActor, auditAdmin } from "../audit/service.ts";
import { generateSecret, maskSecret } from "./signing.ts";

/** Endpoints an instance may have: each event is one delivery job per endpoint. */
export const MAX_WEBHOOKS = 50;

const iso = (ms: number) => new Date(ms).toISOString();

function view(ctx: AppContext, row: WebhookRow, secret: string) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    enabled: row.enabled,
    createdAt: iso(row.createdAt),
    circuit: CircuitState[ctx.breakers.of(row.id).state].replace(/^./, (c) => c.toLowerCase()),
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
  const secret = generateSecret();
  const row = await ctx.store.write(async (tx) => {
    // Counted in the unit that inserts: two concurrent creations cannot both slip under the limit.
    if ((await tx.webhooks.count()) >= MAX_WEBHOOKS)
      throw new AppError(422, { webhooks: [`limit of ${MAX_WEBHOOKS} endpoints reached`] });
    const inserted = await tx.webhooks.insert({
      url: input.url,
      events: input.events,
      secret,
      now: ctx.clock.now(),
    });
    // The URL is audited (it says where data goes); the secret never is.
    await auditAdmin(
      ctx,
      tx,
      "webhook.created",
      actor,
      { type: "webhook", id: inserted.id },
      { url: input.url },
    );
    return inserted;
  });
  ctx.log.info({ webhookId: row.id, events: input.events }, "webhook endpoint created");
  return { webhook: view(ctx, row, secret) };
}

export async function listWebhooks(ctx: AppContext, query: { limit?: string; offset?: string }) {
  const page = pageOf(query);
  const [rows, n] = await Promise.all([ctx.store.read.webhooks.list(page), ctx.store.read.webhooks.count()]);
  return { webhooks: rows.map((r) => view(ctx, r, maskSecret(r.secret))), webhooksCount: n };
}

async function findWebhook(ctx: AppContext, id: number): Promise<WebhookRow> {
  const row = await ctx.store.read.webhooks.byId(id);
  if (!row) throw notFound("webhook");
  return row;
}

export async function getWebhook(ctx: AppContext, id: number) {
  const row = await findWebhook(ctx, id);
  return { webhook: view(ctx, row, maskSecret(row.secret)) };
}

/** Deleting an endpoint drops its delivery log (cascade); its pending deliveries find it gone and finish. */
export async function deleteWebhook(ctx: AppContext, id: number, actor?: AdminActor): Promise<void> {
  const row = await findWebhook(ctx, id);
  await ctx.store.write(async (tx) => {
    await tx.webhooks.delete(id);
    await auditAdmin(ctx, tx, "webhook.deleted", actor, { type: "webhook", id }, { url: row.url });
  });
  ctx.breakers.forget(id);
  ctx.log.info({ webhookId: id }, "webhook endpoint deleted");
}

export async function listDeliveries(
  ctx: AppContext,
  id: number,
  query: { limit?: string; offset?: string },
) {
  await findWebhook(ctx, id);
  const page = pageOf(query);
  const [rows, n] = await Promise.all([
    ctx.store.read.webhooks.deliveries(id, page),
    ctx.store.read.webhooks.countDeliveries(id),
  ]);
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

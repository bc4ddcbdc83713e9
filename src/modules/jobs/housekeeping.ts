/**
 * Housekeeping, as recurring jobs (one row each, so runs never overlap, even across restarts):
 * - `housekeeping.purge`: sessions that expired or were ended more than a day ago (their refresh tokens go
 *   with them), expired refresh tokens, used refresh tokens of ended sessions, password-reset and
 *   verification tokens once used or expired (nothing is learnt from a replayed one), done/dead jobs and webhook
 *   delivery logs older than JOBS_RETENTION_DAYS, audit entries older than AUDIT_RETENTION_DAYS (anonymous
 *   failed logins add rows at a rate no one but the rate limiter bounds). Used refresh tokens of live sessions are kept until they
 *   expire: presenting one again is how token theft is detected (the whole family is revoked).
 * - `housekeeping.optimize`: the engine's upkeep (SQLite: a PASSIVE WAL checkpoint and `PRAGMA optimize`).
 * Deletes run in batches, one unit of work each, so a large backlog never holds the write lock for long.
 */
import type { AppContext } from "../../context.ts";
import type { HousekeepingRepo } from "../../store/operations.ts";

export const HOUSEKEEPING_PURGE = "housekeeping.purge";
export const HOUSEKEEPING_OPTIMIZE = "housekeeping.optimize";

const BATCH = 2_000;
const DAY_MS = 86_400_000;

/** Run one bounded delete per unit of work until a batch comes back short; returns how many went. */
async function purge(
  ctx: AppContext,
  step: (repo: HousekeepingRepo, limit: number) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await ctx.store.write((tx) => step(tx.housekeeping, BATCH));
    total += removed;
    if (removed < BATCH) return total;
    await new Promise((r) => setImmediate(r));
  }
}

export async function purgeExpired(ctx: AppContext): Promise<Record<string, number>> {
  const now = ctx.clock.now();
  const retention = now - ctx.config.JOBS_RETENTION_DAYS * DAY_MS;
  const removed = {
    sessions: await purge(ctx, (r, limit) => r.purgeSessions(now, now - DAY_MS, limit)),
    refreshTokens: await purge(ctx, (r, limit) => r.purgeRefreshTokens(now, limit)),
    accountTokens: await purge(ctx, (r, limit) => r.purgeAccountTokens(now, limit)),
    jobs: await purge(ctx, (r, limit) => r.purgeJobs(retention, limit)),
    webhookDeliveries: await purge(ctx, (r, limit) => r.purgeDeliveries(retention, limit)),
    audit: await purge(ctx, (r, limit) =>
      r.purgeAudit(now - ctx.config.AUDIT_RETENTION_DAYS * DAY_MS, limit),
    ),
  };
  ctx.log.info({ removed }, "housekeeping: purged");
  return removed;
}

export async function optimizeDatabase(ctx: AppContext): Promise<void> {
  const done = await ctx.engine.optimize();
  ctx.log.info(done, "housekeeping: optimized");
}

export function setupHousekeeping(ctx: AppContext): void {
  const every = ctx.config.HOUSEKEEPING_INTERVAL_MS;
  ctx.jobs.every(HOUSEKEEPING_PURGE, every, async () => {
    await purgeExpired(ctx);
  });
  ctx.jobs.every(HOUSEKEEPING_OPTIMIZE, every, () => optimizeDatabase(ctx));
}

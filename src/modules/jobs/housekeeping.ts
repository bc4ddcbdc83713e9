/**
 * Housekeeping, as recurring jobs (one row each, so runs never overlap, even across restarts):
 * - `housekeeping.purge`: sessions that expired or were ended more than a day ago (their refresh tokens go
 *   with them), expired refresh tokens, used refresh tokens of ended sessions, done/dead jobs and webhook
 *   delivery logs older than JOBS_RETENTION_DAYS, audit entries older than AUDIT_RETENTION_DAYS (anonymous
 *   failed logins add rows at a rate no one but the rate limiter bounds). Used refresh tokens of live sessions are kept until they
 *   expire: presenting one again is how token theft is detected (the whole family is revoked).
 * - `housekeeping.optimize`: a PASSIVE WAL checkpoint (never waits for readers) and `PRAGMA optimize`.
 * Deletes run in batches, yielding between them, so a large backlog never holds the write lock for long.
 */
import type { AppContext } from "../../context.ts";

export const HOUSEKEEPING_PURGE = "housekeeping.purge";
export const HOUSEKEEPING_OPTIMIZE = "housekeeping.optimize";

const BATCH = 2_000;
const DAY_MS = 86_400_000;

/** Delete `table` rows matching `where` in batches; returns how many went. */
async function purge(ctx: AppContext, table: string, where: string, ...params: number[]): Promise<number> {
  const stmt = ctx.sqlite.query(
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where} LIMIT ${BATCH})`,
  );
  let total = 0;
  for (;;) {
    const { changes } = stmt.run(...params);
    total += changes;
    if (changes < BATCH) return total;
    await new Promise((r) => setImmediate(r));
  }
}

export async function purgeExpired(ctx: AppContext): Promise<Record<string, number>> {
  const now = ctx.clock.now();
  const retention = now - ctx.config.JOBS_RETENTION_DAYS * DAY_MS;
  const removed = {
    sessions: await purge(
      ctx,
      "sessions",
      "expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?2)",
      now,
      now - DAY_MS,
    ),
    refreshTokens: await purge(
      ctx,
      "refresh_tokens",
      `expires_at < ?1 OR (used_at IS NOT NULL AND session_id IN
         (SELECT id FROM sessions WHERE revoked_at IS NOT NULL OR expires_at < ?1))`,
      now,
    ),
    jobs: await purge(ctx, "jobs", "state IN ('done', 'dead') AND finished_at < ?1", retention),
    webhookDeliveries: await purge(ctx, "webhook_deliveries", "created_at < ?1", retention),
    audit: await purge(ctx, "audit_log", "at < ?1", now - ctx.config.AUDIT_RETENTION_DAYS * DAY_MS),
  };
  ctx.log.info({ removed }, "housekeeping: purged");
  return removed;
}

export function optimizeDatabase(ctx: AppContext): void {
  const [checkpoint] = ctx.sqlite
    .query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)")
    .all();
  ctx.sqlite.run("PRAGMA optimize");
  ctx.log.info({ checkpoint }, "housekeeping: checkpointed and optimized");
}

export function setupHousekeeping(ctx: AppContext): void {
  const every = ctx.config.HOUSEKEEPING_INTERVAL_MS;
  ctx.jobs.every(HOUSEKEEPING_PURGE, every, async () => {
    await purgeExpired(ctx);
  });
  ctx.jobs.every(HOUSEKEEPING_OPTIMIZE, every, () => optimizeDatabase(ctx));
}

/**
 * Housekeeping purges on Postgres. Each call deletes at most `limit` rows, picked by primary key in a
 * subquery (SQLite's twin picks rowids), so one call holds its locks briefly; the caller loops.
 */
import { type SQL, sql } from "drizzle-orm";
import type { HousekeepingRepo } from "../../../store/operations.ts";
import type { PgDb } from "./shared.ts";

export function pgHousekeeping(db: PgDb): HousekeepingRepo {
  /** Rows of `table` (keyed by `key`) matching `where`, at most `limit` of them; how many went. */
  const purge = async (table: string, key: string, where: SQL, limit: number) => {
    const t = sql.identifier(table);
    const k = sql.identifier(key);
    const rows = (await db.execute(
      sql`delete from ${t} where ${k} in (select ${k} from ${t} where ${where} limit ${Math.max(0, Math.trunc(limit))}) returning 1`,
    )) as unknown as unknown[];
    return rows.length;
  };
  return {
    purgeSessions: (now, endedBefore, limit) =>
      purge(
        "sessions",
        "id",
        sql`expires_at < ${now} or (revoked_at is not null and revoked_at < ${endedBefore})`,
        limit,
      ),
    purgeRefreshTokens: (now, limit) =>
      purge(
        "refresh_tokens",
        "id",
        sql`expires_at < ${now} or (used_at is not null and session_id in
          (select id from sessions where revoked_at is not null or expires_at < ${now}))`,
        limit,
      ),
    purgeJobs: (before, limit) =>
      purge("jobs", "id", sql`state in ('done', 'dead') and finished_at < ${before}`, limit),
    purgeDeliveries: (before, limit) => purge("webhook_deliveries", "id", sql`created_at < ${before}`, limit),
    purgeAudit: (before, limit) => purge("audit_log", "id", sql`at < ${before}`, limit),
    purgeAccountTokens: (now, limit) =>
      purge("account_tokens", "id", sql`expires_at <= ${now} or used_at is not null`, limit),
  };
}

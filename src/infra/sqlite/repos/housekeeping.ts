/**
 * Housekeeping deletes on SQLite, each bounded to `limit` rows (by rowid, through its index) so that a large
 * backlog never holds the write lock for long; the caller loops, one unit of work per batch.
 */
import type { Database } from "bun:sqlite";
import type { HousekeepingRepo } from "../../../store/operations.ts";
import { lazy } from "./lazy.ts";

const batched = (table: string, where: string) =>
  `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where} LIMIT $limit)`;

export function sqliteHousekeeping(connection: Database): HousekeepingRepo {
  const q = lazy(() => ({
    sessions: connection.query(
      batched("sessions", "expires_at < $now OR (revoked_at IS NOT NULL AND revoked_at < $endedBefore)"),
    ),
    refreshTokens: connection.query(
      batched(
        "refresh_tokens",
        `expires_at < $now OR (used_at IS NOT NULL AND session_id IN
           (SELECT id FROM sessions WHERE revoked_at IS NOT NULL OR expires_at < $now))`,
      ),
    ),
    jobs: connection.query(batched("jobs", "state IN ('done', 'dead') AND finished_at < $before")),
    deliveries: connection.query(batched("webhook_deliveries", "created_at < $before")),
    audit: connection.query(batched("audit_log", "at < $before")),
    accountTokens: connection.query(batched("account_tokens", "expires_at <= $now OR used_at IS NOT NULL")),
  }));
  return {
    async purgeSessions(now, endedBefore, limit) {
      return q().sessions.run({ now, endedBefore, limit }).changes;
    },
    async purgeRefreshTokens(now, limit) {
      return q().refreshTokens.run({ now, limit }).changes;
    },
    async purgeJobs(before, limit) {
      return q().jobs.run({ before, limit }).changes;
    },
    async purgeDeliveries(before, limit) {
      return q().deliveries.run({ before, limit }).changes;
    },
    async purgeAudit(before, limit) {
      return q().audit.run({ before, limit }).changes;
    },
    async purgeAccountTokens(now, limit) {
      return q().accountTokens.run({ now, limit }).changes;
    },
  };
}

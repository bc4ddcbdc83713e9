/** The job queue's figures for the admin API and /metrics: read at the time of asking, never cached. */
import type { Database } from "bun:sqlite";
import { STATS_BACKLOG_SQL, STATS_COUNTS_SQL } from "./queue-sql.ts";
import type { JobState, QueueStats } from "./queue-types.ts";

export function readQueueStats(db: Database, now: number, processed: QueueStats["processed"]): QueueStats {
  const stats: QueueStats = {
    pending: 0,
    running: 0,
    done: 0,
    dead: 0,
    retrying: 0,
    ready: 0,
    oldestReadyAgeMs: 0,
    byType: {},
    processed: { ...processed },
  };
  const rows = db.query<{ type: string; state: JobState; n: number }, []>(STATS_COUNTS_SQL).all();
  for (const { type, state, n } of rows) {
    stats[state] += n;
    stats.byType[type] = { ...stats.byType[type], [state]: n };
  }
  const backlog = db
    .query<{ retrying: number; ready: number; oldest: number | null }, [number]>(STATS_BACKLOG_SQL)
    .get(now)!;
  stats.retrying = backlog.retrying ?? 0;
  stats.ready = backlog.ready ?? 0;
  stats.oldestReadyAgeMs = backlog.oldest === null ? 0 : now - backlog.oldest;
  return stats;
}

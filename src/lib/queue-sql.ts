/**
 * The statements of src/lib/queue.ts, with numbered parameters (the connection may or may not be opened in
 * strict mode). Every timestamp is epoch milliseconds from the queue's clock, never SQLite's.
 */

/** ?1 type, ?2 payload, ?3 run_at, ?4 max_attempts, ?5 unique_key, ?6 now. A taken unique key inserts nothing. */
export const ENQUEUE_SQL = `
  INSERT INTO jobs (type, payload, state, run_at, max_attempts, unique_key, created_at, updated_at)
  VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?6)
  ON CONFLICT (unique_key) DO NOTHING
  RETURNING id`;

/**
 * ?1 type, ?2 now, ?3 max_attempts, ?4 unique key, ?5 interval. A running row is left alone (no overlap);
 * a waiting row is pulled forward if the interval shrank; a done/dead row (should not happen) is revived.
 */
export const SCHEDULE_RECURRING_SQL = `
  INSERT INTO jobs (type, payload, state, run_at, max_attempts, unique_key, created_at, updated_at)
  VALUES (?1, '{}', 'pending', ?2, ?3, ?4, ?2, ?2)
  ON CONFLICT (unique_key) DO UPDATE SET
    state = CASE WHEN state IN ('done', 'dead') THEN 'pending' ELSE state END,
    run_at = CASE WHEN state = 'running' THEN run_at ELSE min(run_at, ?2 + ?5) END`;

/**
 * ?1 now, ?2 lease, ?3 lock token, ?4 JSON array of handled types. Two branches, each walking jobs_ready_idx in
 * order and stopping at its first row; a single `(pending AND due) OR (running AND expired)` made SQLite
 * collect and sort every due job on each claim (quadratic: 5 000 queued no-op jobs drained at ~2 000/s
 * instead of ~8 000/s).
 */
export const CLAIM_SQL = `
  UPDATE jobs
  SET state = 'running', locked_until = ?1 + ?2, locked_by = ?3, attempts = attempts + 1, updated_at = ?1
  WHERE id = (
    SELECT id FROM (
      SELECT * FROM (
        SELECT id, run_at FROM jobs
        WHERE state = 'pending' AND run_at <= ?1 AND type IN (SELECT value FROM json_each(?4))
        ORDER BY run_at, id LIMIT 1)
      UNION ALL
      SELECT * FROM (
        SELECT id, run_at FROM jobs
        WHERE state = 'running' AND locked_until < ?1 AND type IN (SELECT value FROM json_each(?4))
        ORDER BY run_at, id LIMIT 1)
    ) ORDER BY run_at, id LIMIT 1)
  RETURNING *`;

export const STATS_COUNTS_SQL = "SELECT type, state, count(*) AS n FROM jobs GROUP BY type, state";

/** ?1 now. */
export const STATS_BACKLOG_SQL = `
  SELECT sum(attempts > 0) AS retrying, sum(run_at <= ?1) AS ready,
    min(CASE WHEN run_at <= ?1 THEN run_at END) AS oldest
  FROM jobs WHERE state = 'pending'`;

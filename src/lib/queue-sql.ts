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

// State transitions of a claimed job. Each is guarded by `locked_by = <our lock> AND state = 'running'`, so a
// worker whose lease lapsed (and whose job another process took over) changes nothing.

/** ?1 now, ?2 id: a dead or waiting job runs again now with a fresh attempt budget. */
export const RETRY_SQL = `
  UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?1, locked_until = NULL, locked_by = NULL,
    finished_at = NULL, updated_at = ?1
  WHERE id = ?2 AND state IN ('dead', 'pending') RETURNING *`;

/** ?1 run_at, ?2 error, ?3 now, ?4 id, ?5 lock: postponed (RetryLaterError) without spending an attempt. */
export const POSTPONE_SQL = `
  UPDATE jobs SET state = 'pending', attempts = max(attempts - 1, 0), run_at = ?1, last_error = ?2,
    locked_until = NULL, locked_by = NULL, updated_at = ?3
  WHERE id = ?4 AND locked_by = ?5 AND state = 'running'`;

/** ?1 run_at, ?2 error, ?3 now, ?4 id, ?5 lock, ?6 1 to reset attempts (a recurring job's next slot). */
export const RESCHEDULE_FAILED_SQL = `
  UPDATE jobs SET state = 'pending', run_at = ?1, last_error = ?2, locked_until = NULL, locked_by = NULL,
    attempts = CASE WHEN ?6 THEN 0 ELSE attempts END, updated_at = ?3
  WHERE id = ?4 AND locked_by = ?5 AND state = 'running'`;

/** ?1 next run_at, ?2 now, ?3 id, ?4 lock: a recurring job that ran is pending again for its next slot. */
export const RESCHEDULE_RECURRING_SQL = `
  UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?1, last_error = NULL, locked_until = NULL,
    locked_by = NULL, updated_at = ?2
  WHERE id = ?3 AND locked_by = ?4 AND state = 'running'`;

/** ?1 'done' | 'dead', ?2 now, ?3 error, ?4 id, ?5 lock. */
export const FINISH_SQL = `
  UPDATE jobs SET state = ?1, finished_at = ?2, updated_at = ?2, locked_until = NULL, locked_by = NULL,
    last_error = ?3
  WHERE id = ?4 AND locked_by = ?5 AND state = 'running'`;

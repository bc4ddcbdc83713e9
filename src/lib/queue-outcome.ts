/**
 * What becomes of a job: the pure decisions of the worker loop (src/lib/queue.ts), kept apart from its timers
 * and store calls: where a failed attempt goes, and the stats an operator reads.
 */
import {
  type Backoff,
  type JobCounts,
  type JobTransition,
  PermanentJobError,
  type QueueStats,
  RetryLaterError,
} from "./queue-types.ts";

const MAX_ERROR_CHARS = 1_000;

export interface FailedAttempt {
  attempts: number;
  maxAttempts: number;
  /** Set for recurring jobs. */
  intervalMs?: number;
  backoff: Backoff;
}

/** A failed attempt's fate: a transition of its row, or death (logged by the caller). */
export type FailureOutcome =
  | { to: "dead"; error: string }
  | Extract<JobTransition, { to: "postponed" | "retry" }>;

export function failureOutcome(
  err: unknown,
  job: FailedAttempt,
  now: number,
  random: number,
): FailureOutcome {
  const error = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS);
  if (err instanceof RetryLaterError) return { to: "postponed", runAt: now + err.delayMs, error };
  const final = err instanceof PermanentJobError || job.attempts >= job.maxAttempts;
  if (final && job.intervalMs === undefined) return { to: "dead", error };
  // A recurring job that used up its attempts waits for its next slot instead of dying.
  const runAt = final ? now + job.intervalMs! : now + job.backoff(job.attempts, random);
  return { to: "retry", runAt, error, resetAttempts: final };
}

/** Depth by state and type, backlog, and outcomes since start. */
export function queueStats(counts: JobCounts, now: number, processed: QueueStats["processed"]): QueueStats {
  const stats: QueueStats = {
    pending: 0,
    running: 0,
    done: 0,
    dead: 0,
    retrying: counts.retrying,
    ready: counts.ready,
    oldestReadyAgeMs: counts.oldestReadyAt === null ? 0 : now - counts.oldestReadyAt,
    byType: {},
    processed: { ...processed },
  };
  for (const { type, state, n } of counts.byTypeAndState) {
    stats[state] += n;
    stats.byType[type] = { ...stats.byType[type], [state]: n };
  }
  return stats;
}

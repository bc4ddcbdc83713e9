/**
 * The job queue's public types: rows, jobs, handlers, options, statistics, and the errors a handler throws to
 * steer retries. Split from src/lib/queue.ts, which re-exports everything here.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "./clock.ts";

export type JobState = "pending" | "running" | "done" | "dead";

/** A row of the jobs table, as SQLite returns it. */
export interface JobRow {
  id: number;
  type: string;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  unique_key: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface Job<P = unknown> {
  id: number;
  type: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the queue stops and the drain deadline has passed. */
  signal: AbortSignal;
}

export type JobHandler<P = unknown> = (job: Job<P>) => Promise<void> | void;

/** Delay before retry number `attempt` (1 = after the first failure); `random` is in [0, 1). */
export type Backoff = (attempt: number, random: number) => number;

/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries spread out. */
export function exponentialBackoff(baseMs: number, maxMs: number, factor = 2): Backoff {
  return (attempt, random) => {
    const delay = Math.min(maxMs, baseMs * factor ** Math.max(0, attempt - 1));
    return Math.round(delay / 2 + (delay / 2) * random);
  };
}

/** Thrown by a handler: no retry can succeed (bad payload, refused URL); the job goes dead at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/** Thrown by a handler: try again after `delayMs` without spending an attempt (e.g. a circuit is open). */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

export interface HandlerOptions {
  maxAttempts?: number;
  backoff?: Backoff;
}

export interface EnqueueOptions {
  /** Epoch ms; defaults to now. */
  runAt?: number;
  delayMs?: number;
  /** At most one job per key exists (until it is purged); a duplicate enqueue is a no-op. */
  uniqueKey?: string;
  maxAttempts?: number;
}

/** The subset of pino the queue uses. */
export interface QueueLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface QueueOptions {
  db: Database;
  clock: Clock;
  log?: QueueLogger;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  backoff?: Backoff;
  /** Randomness for jitter (tests pass a constant). */
  random?: () => number;
}

export interface QueueStats {
  pending: number;
  running: number;
  done: number;
  dead: number;
  /** Pending jobs that have failed at least once. */
  retrying: number;
  /** Pending jobs whose run_at has passed (the backlog). */
  ready: number;
  /** Age of the oldest ready job: how far behind the workers are. */
  oldestReadyAgeMs: number;
  byType: Record<string, Partial<Record<JobState, number>>>;
  /** Counts since this process started. */
  processed: { completed: number; failed: number; dead: number };
}

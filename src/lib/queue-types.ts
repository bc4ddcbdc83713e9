/**
 * The job queue's public types: rows, jobs, handlers, options, statistics, and the errors a handler throws to
 * steer retries. Split from src/lib/queue.ts, which re-exports everything here.
 */
import type { Clock } from "./clock.ts";

export type JobState = "pending" | "running" | "done" | "dead";

/** A row of the jobs table. Timestamps are epoch milliseconds from the queue's clock. */
export interface JobRow {
  id: number;
  type: string;
  /** JSON text. */
  payload: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  lockedUntil: number | null;
  lockedBy: string | null;
  uniqueKey: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface NewJob {
  type: string;
  payload: string;
  runAt: number;
  maxAttempts: number;
  uniqueKey: string | null;
  now: number;
}

/** What happens to a claimed job. Every transition names the claim: a lapsed claim changes nothing. */
export type JobTransition =
  /** Try again at `runAt` without spending an attempt (RetryLaterError, or released at shutdown). */
  | { to: "postponed"; runAt: number; error: string | null }
  /** Failed; run again at `runAt`. `resetAttempts` for a recurring job's next slot. */
  | { to: "retry"; runAt: number; error: string; resetAttempts: boolean }
  /** A recurring job that ran: pending again for its next slot. */
  | { to: "next"; runAt: number }
  | { to: "done" | "dead"; error: string | null };

export interface JobCounts {
  byTypeAndState: { type: string; state: JobState; n: number }[];
  /** Pending jobs that have failed at least once. */
  retrying: number;
  /** Pending jobs whose run_at has passed. */
  ready: number;
  /** run_at of the oldest ready job. */
  oldestReadyAt: number | null;
}

/**
 * The statements the queue needs, implemented by each engine (on SQLite and Postgres: the `jobs` table).
 * The queue calls them inside the store's units of work, so an enqueue in a write's unit is an outbox insert.
 */
export interface JobStore {
  /** Undefined when `uniqueKey` is already taken. */
  enqueue(job: NewJob): Promise<number | undefined>;
  /**
   * The one row of a recurring job: created pending at `now`; a waiting row is pulled forward to
   * `now + intervalMs` if it waits longer; a running row is left alone; a done or dead row is revived.
   */
  scheduleRecurring(job: {
    type: string;
    uniqueKey: string;
    intervalMs: number;
    maxAttempts: number;
    now: number;
  }): Promise<void>;
  /**
   * Claim one due job of `types` in one atomic statement (a pending job whose time has come, or a running
   * one whose lease ran out), leased until `now + leaseMs`. Concurrent claimers never get the same job.
   */
  claim(types: readonly string[], now: number, leaseMs: number, lock: string): Promise<JobRow | undefined>;
  /** Push a claim's lease to `until`; false if the claim was lost. */
  extend(id: number, lock: string, until: number): Promise<boolean>;
  /** Apply a transition to a claimed job; false if the claim was lost. */
  transition(id: number, lock: string, change: JobTransition, now: number): Promise<boolean>;
  /** A dead or waiting job runs again now with a fresh budget; undefined for any other state. */
  retry(id: number, now: number): Promise<JobRow | undefined>;
  counts(now: number): Promise<JobCounts>;
}

/** The store, as the queue sees it: units of work over the engine's JobStore, and reads. */
export interface QueueStore {
  /**
   * `isolation: "read-committed"` marks the queue's own single-statement units (claim, lease, transitions):
   * each guards itself in its WHERE clause, so an engine that runs units side by side need not check them
   * for serializability (Postgres: measured ~1.7x the jobs/s of SERIALIZABLE with three claiming processes).
   */
  write<T>(
    work: (tx: { jobs: JobStore }) => Promise<T>,
    options?: { isolation?: "serializable" | "read-committed" },
  ): Promise<T>;
  readonly read: { jobs: JobStore };
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
  store: QueueStore;
  clock: Clock;
  log?: QueueLogger;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  backoff?: Backoff;
  /** Randomness for jitter (tests pass a constant). */
  random?: () => number;
  /**
   * Ask the workers of other processes to look for due jobs (a cluster, through its broker): called when
   * this process is woken for new jobs while all its slots are busy.
   */
  wakeOthers?: () => void;
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

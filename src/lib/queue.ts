/**
 * A durable job queue on the application's own SQLite connection (the `jobs` table; see src/db/schema.ts).
 *
 * Why hand-written: bunqueue keeps its own store (memory, its own SQLite file or PostgreSQL), liteque opens
 * its own better-sqlite3 connection with its own Drizzle schema, and plainjob owns its tables, has no retry
 * budget, backoff, unique keys or injectable clock. None can insert a job inside *our* transaction on *our*
 * connection, which is the whole point: a job caused by a write must commit or roll back with that write.
 *
 * Semantics (at least once; handlers make the effect idempotent, e.g. keyed by job id):
 * - `enqueue` is a single INSERT on the same connection, so inside an open transaction it is part of it.
 * - A claim is one atomic UPDATE … RETURNING that takes a due pending job, or a running job whose lease ran out
 *   (its process died), and sets a fresh lease; a heartbeat extends the lease while the handler runs.
 * - Failures retry with exponential backoff and jitter until `max_attempts`, then the job is `dead`.
 * - Recurring jobs are one row each (`unique_key = recurring:<type>`), rescheduled after every run, so two
 *   runs of the same schedule can never overlap; they never die (a failed run waits for the next slot).
 * - `stop({ deadlineMs })` stops claiming, waits for running handlers, then releases what is still running.
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock.ts";
import {
  CLAIM_SQL,
  ENQUEUE_SQL,
  FINISH_SQL,
  POSTPONE_SQL,
  RESCHEDULE_FAILED_SQL,
  RESCHEDULE_RECURRING_SQL,
  RETRY_SQL,
  SCHEDULE_RECURRING_SQL,
} from "./queue-sql.ts";
import { readQueueStats } from "./queue-stats.ts";
import {
  type Backoff,
  type EnqueueOptions,
  exponentialBackoff,
  type HandlerOptions,
  type JobHandler,
  type JobRow,
  PermanentJobError,
  type QueueLogger,
  type QueueOptions,
  type QueueStats,
  RetryLaterError,
} from "./queue-types.ts";

export * from "./queue-types.ts";

interface Registered {
  handler: JobHandler<never>;
  maxAttempts?: number;
  backoff?: Backoff;
  /** Set for recurring jobs. */
  intervalMs?: number;
}

interface Running {
  lock: string;
  controller: AbortController;
  done: Promise<void>;
}

const MAX_ERROR_CHARS = 1_000;
const silent: QueueLogger = { info() {}, warn() {}, error() {} };

export const recurringKey = (type: string) => `recurring:${type}`;

export class JobQueue {
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** Identifies this process in `locked_by` (each claim appends a sequence number). */
  readonly workerId = `w-${randomBytes(4).toString("hex")}`;

  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: QueueLogger;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #handlers = new Map<string, Registered>();
  readonly #running = new Map<number, Running>();
  readonly #processed = { completed: 0, failed: 0, dead: 0 };
  #types = "[]";
  #claims = 0;
  #started = false;
  #stopping = false;
  #timer: Timer | undefined;
  #heartbeat: Timer | undefined;
  #wakeScheduled = false;

  constructor(options: QueueOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#log = options.log ?? silent;
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.#backoff = options.backoff ?? exponentialBackoff(1_000, 3_600_000);
    this.#random = options.random ?? Math.random;
  }

  /** Handle jobs of `type`. Only registered types are claimed, so an older binary leaves newer jobs alone. */
  register<P>(type: string, handler: JobHandler<P>, options: HandlerOptions = {}): this {
    this.#handlers.set(type, { handler: handler as JobHandler<never>, ...options });
    this.#types = JSON.stringify([...this.#handlers.keys()]);
    return this;
  }

  /** A recurring job: one row, run every `intervalMs` after the previous run finished. */
  every(type: string, intervalMs: number, handler: JobHandler<Record<string, never>>): this {
    this.register(type, handler);
    this.#handlers.get(type)!.intervalMs = intervalMs;
    // Registered after start(): give it its row now (scheduling is idempotent).
    if (this.#started) this.scheduleRecurring();
    return this;
  }

  get started(): boolean {
    return this.#started && !this.#stopping;
  }

  /**
   * Insert a job; returns its id, or undefined when `uniqueKey` is already taken. Inside a transaction on the
   * same connection the insert is part of that transaction (the outbox).
   */
  enqueue(type: string, payload: unknown = {}, options: EnqueueOptions = {}): number | undefined {
    const now = this.#clock.now();
    const runAt = options.runAt ?? now + (options.delayMs ?? 0);
    const maxAttempts = options.maxAttempts ?? this.#handlers.get(type)?.maxAttempts ?? this.maxAttempts;
    const rows = this.#db
      .query<{ id: number }, [string, string, number, number, string | null, number]>(ENQUEUE_SQL)
      .all(type, JSON.stringify(payload), runAt, maxAttempts, options.uniqueKey ?? null, now);
    // Outside a transaction the job is visible now; inside one, the caller wakes us after commit.
    if (rows.length > 0 && !this.#db.inTransaction) this.wake();
    return rows[0]?.id;
  }

  /** Start polling (and make sure every recurring job has its row). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    this.scheduleRecurring();
    this.wake();
  }

  /** Run the worker loop soon (coalesced), e.g. right after a transaction that enqueued jobs committed. */
  wake(): void {
    if (!this.started || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.#pump();
    });
  }

  /**
   * Stop claiming, give running handlers until `deadlineMs` to finish, then abort them and release their jobs
   * (back to pending, attempt not counted) so the next process runs them at once instead of after the lease.
   */
  async stop({ deadlineMs = 10_000 }: { deadlineMs?: number } = {}): Promise<{ released: number }> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let timer: Timer | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([Promise.allSettled([...this.#running.values()].map((r) => r.done)), deadline]);
    clearTimeout(timer);
    let released = 0;
    for (const [id, run] of this.#running) {
      run.controller.abort(new Error("queue stopping"));
      released += this.#update(
        `UPDATE jobs SET state = 'pending', attempts = max(attempts - 1, 0), run_at = ?1, locked_until = NULL,
           locked_by = NULL, updated_at = ?1 WHERE id = ?2 AND locked_by = ?3 AND state = 'running'`,
        this.#clock.now(),
        id,
        run.lock,
      );
    }
    // Released jobs are no longer ours: stop extending their leases even if a handler never settles.
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#started = false;
    if (released > 0) this.#log.warn({ released }, "jobs released at shutdown");
    return { released };
  }

  /**
   * Claim and run every job due now, `concurrency` at a time, until none is left; resolves with how many ran.
   * For tests and one-shot use: it works whether or not the queue was started.
   */
  async runDue(): Promise<number> {
    let ran = 0;
    for (;;) {
      const batch: Promise<void>[] = [];
      while (batch.length < this.concurrency) {
        const row = this.#claim();
        if (!row) break;
        batch.push(this.#execute(row));
      }
      if (batch.length === 0) return ran;
      ran += batch.length;
      await Promise.all(batch);
    }
  }

  /** Insert (or pull forward) the row of every recurring job; running rows are left alone. */
  scheduleRecurring(): void {
    const now = this.#clock.now();
    for (const [type, def] of this.#handlers) {
      if (def.intervalMs === undefined) continue;
      this.#db
        .query(SCHEDULE_RECURRING_SQL)
        .run(type, now, def.maxAttempts ?? this.maxAttempts, recurringKey(type), def.intervalMs);
    }
  }

  /** Put a dead (or waiting) job back to run now with a fresh attempt budget. */
  retry(id: number): JobRow | undefined {
    const now = this.#clock.now();
    const rows = this.#db.query<JobRow, [number, number]>(RETRY_SQL).all(now, id);
    if (rows.length > 0) this.wake();
    return rows[0];
  }

  /** Depth by state and type, backlog and outcomes since start (src/lib/queue-stats.ts). */
  stats(): QueueStats {
    return readQueueStats(this.#db, this.#clock.now(), this.#processed);
  }

  // ---- the worker loop ----

  /**
   * Fill the free slots. A finishing job calls this again, so a busy queue never waits for the timer; the poll
   * timer is armed only when there was nothing due (for delayed jobs, retries, other processes' enqueues).
   */
  #pump(): void {
    if (!this.started) return;
    let idle = false;
    try {
      while (this.#running.size < this.concurrency) {
        const row = this.#claim();
        if (!row) {
          idle = true;
          break;
        }
        void this.#execute(row).finally(() => this.#pump());
      }
    } catch (err) {
      // SQLITE_BUSY from another process, say: try again at the next poll.
      this.#log.error({ err }, "job claim failed");
      idle = true;
    }
    if (idle && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, this.pollIntervalMs);
      this.#timer.unref?.();
    }
  }

  /**
   * One atomic statement: take the oldest due job (or one whose lease expired) of a type we handle. `.all()`,
   * never `.get()`: a RETURNING statement stepped once and not reset keeps its read transaction open.
   */
  #claim(): JobRow | undefined {
    if (this.#handlers.size === 0) return undefined;
    const now = this.#clock.now();
    this.#claims += 1;
    const lock = `${this.workerId}:${this.#claims}`;
    const rows = this.#db
      .query<JobRow, [number, number, string, string]>(CLAIM_SQL)
      .all(now, this.leaseMs, lock, this.#types);
    return rows[0];
  }

  async #execute(row: JobRow): Promise<void> {
    const lock = row.locked_by!;
    const def = this.#handlers.get(row.type)!;
    // The lease ran out on the final attempt: the process died running it. Do not try a fourth time forever.
    if (row.attempts > row.max_attempts) {
      this.#finish(row, lock, "dead", "lease expired on the final attempt");
      return;
    }
    const controller = new AbortController();
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    this.#running.set(row.id, { lock, controller, done });
    this.#startHeartbeat();
    try {
      let payload: unknown;
      try {
        payload = JSON.parse(row.payload);
      } catch {
        throw new PermanentJobError("payload is not JSON");
      }
      await def.handler({
        id: row.id,
        type: row.type,
        payload: payload as never,
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        signal: controller.signal,
      });
      this.#finish(row, lock, "done");
    } catch (err) {
      this.#fail(row, lock, def, err);
    } finally {
      this.#running.delete(row.id);
      if (this.#running.size === 0) {
        clearInterval(this.#heartbeat);
        this.#heartbeat = undefined;
      }
      resolveDone();
    }
  }

  /** One timer for all running jobs: every third of the lease, push every lease we hold forward. */
  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    this.#heartbeat = setInterval(
      () => {
        const until = this.#clock.now() + this.leaseMs;
        for (const [id, run] of this.#running) {
          this.#update(
            "UPDATE jobs SET locked_until = ?1 WHERE id = ?2 AND locked_by = ?3 AND state = 'running'",
            until,
            id,
            run.lock,
          );
        }
      },
      Math.max(10, this.leaseMs / 3),
    );
    this.#heartbeat.unref?.();
  }

  #fail(row: JobRow, lock: string, def: Registered, err: unknown): void {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS);
    const now = this.#clock.now();
    this.#processed.failed += 1;
    if (err instanceof RetryLaterError) {
      this.#update(POSTPONE_SQL, now + err.delayMs, message, now, row.id, lock);
      return;
    }
    const final = err instanceof PermanentJobError || row.attempts >= row.max_attempts;
    if (final && def.intervalMs === undefined) {
      this.#log.error({ jobId: row.id, type: row.type, attempts: row.attempts, error: message }, "job dead");
      this.#finish(row, lock, "dead", message);
      return;
    }
    // A recurring job that used up its attempts waits for its next slot instead of dying.
    const runAt = final
      ? now + def.intervalMs!
      : now + (def.backoff ?? this.#backoff)(row.attempts, this.#random());
    this.#log.warn({ jobId: row.id, type: row.type, attempt: row.attempts, error: message }, "job failed");
    this.#update(RESCHEDULE_FAILED_SQL, runAt, message, now, row.id, lock, final ? 1 : 0);
  }

  /** Mark done (a recurring job is rescheduled instead) or dead; a no-op if our claim was lost meanwhile. */
  #finish(row: JobRow, lock: string, state: "done" | "dead", error?: string): void {
    const now = this.#clock.now();
    const interval = this.#handlers.get(row.type)?.intervalMs;
    if (state === "done" && interval !== undefined && row.unique_key === recurringKey(row.type)) {
      this.#update(RESCHEDULE_RECURRING_SQL, now + interval, now, row.id, lock);
    } else {
      this.#update(FINISH_SQL, state, now, error ?? null, row.id, lock);
    }
    this.#processed[state === "done" ? "completed" : "dead"] += 1;
  }

  /** Run a write; never throws into the worker loop (the database may be closing). Returns rows changed. */
  #update(sql: string, ...params: (string | number | null)[]): number {
    try {
      return this.#db.query(sql).run(...params).changes;
    } catch (err) {
      this.#log.error({ err }, "job state update failed");
      return 0;
    }
  }
}

/**
 * A durable job queue on the application's own store (the `jobs` table of whichever engine runs; the
 * statements are the engine's JobStore, see src/lib/queue-types.ts).
 *
 * Why hand-written: bunqueue keeps its own store (memory, its own SQLite file or PostgreSQL), liteque opens
 * its own better-sqlite3 connection with its own Drizzle schema, plainjob owns its tables, has no retry
 * budget, backoff, unique keys or injectable clock; pg-boss and graphile-worker are Postgres-only. None can
 * insert a job inside *our* unit of work on both of our engines, which is the whole point: a job caused by
 * a write must commit or roll back with that write.
 *
 * Semantics (at least once; handlers make the effect idempotent, e.g. keyed by job id):
 * - `enqueue(tx, …)` is a single INSERT in the caller's unit of work: the job exists exactly when the write
 *   committed (the outbox). `enqueueNow` is its own unit.
 * - A claim is one atomic UPDATE … RETURNING that takes a due pending job, or a running job whose lease ran out
 *   (its process died), and sets a fresh lease; a heartbeat extends the lease while the handler runs.
 * - Failures retry with exponential backoff and jitter until `max_attempts`, then the job is `dead`.
 * - Recurring jobs are one row each (`unique_key = recurring:<type>`), rescheduled after every run, so two
 *   runs of the same schedule can never overlap; they never die (a failed run waits for the next slot).
 * - Several processes may share the table (a cluster): claims are atomic, so each job runs once, and a
 *   process whose slots are busy when new jobs commit wakes the others (`wakeOthers`).
 * - `stop({ deadlineMs })` stops claiming, waits for running handlers, then releases what is still running.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock.ts";
import { failureOutcome, queueStats } from "./queue-outcome.ts";
import {
  type Backoff,
  type EnqueueOptions,
  exponentialBackoff,
  type HandlerOptions,
  type JobHandler,
  type JobRow,
  type JobStore,
  type JobTransition,
  PermanentJobError,
  type QueueLogger,
  type QueueOptions,
  type QueueStats,
  type QueueStore,
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

const silent: QueueLogger = { info() {}, warn() {}, error() {} };
/** The queue's own units: one statement each, guarded by its claim (see QueueStore.write). */
const SELF_GUARDED = { isolation: "read-committed" } as const;

export const recurringKey = (type: string) => `recurring:${type}`;

export class JobQueue {
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** Identifies this process in `locked_by` (each claim appends a sequence number). */
  readonly workerId = `w-${randomBytes(4).toString("hex")}`;

  readonly #store: QueueStore;
  readonly #clock: Clock;
  readonly #log: QueueLogger;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #handlers = new Map<string, Registered>();
  readonly #running = new Map<number, Running>();
  readonly #processed = { completed: 0, failed: 0, dead: 0 };
  #types: string[] = [];
  #claims = 0;
  #started = false;
  #stopping = false;
  #pumping = false;
  /** A wake that arrived while a claim was in flight: that claim may have missed its job, so claim again. */
  #pumpAgain = false;
  #timer: Timer | undefined;
  #heartbeat: Timer | undefined;
  #wakeScheduled = false;
  readonly #wakeOthers: (() => void) | undefined;

  constructor(options: QueueOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log ?? silent;
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.#backoff = options.backoff ?? exponentialBackoff(1_000, 3_600_000);
    this.#random = options.random ?? Math.random;
    this.#wakeOthers = options.wakeOthers;
  }

  /** Handle jobs of `type`. Only registered types are claimed, so an older binary leaves newer jobs alone. */
  register<P>(type: string, handler: JobHandler<P>, options: HandlerOptions = {}): this {
    this.#handlers.set(type, { handler: handler as JobHandler<never>, ...options });
    this.#types = [...this.#handlers.keys()];
    return this;
  }

  /** A recurring job: one row, run every `intervalMs` after the previous run finished. */
  every(type: string, intervalMs: number, handler: JobHandler<Record<string, never>>): this {
    this.register(type, handler);
    this.#handlers.get(type)!.intervalMs = intervalMs;
    // Registered after start(): give it its row now (scheduling is idempotent).
    if (this.#started)
      void this.scheduleRecurring().catch((err) => this.#log.error({ err }, "scheduling failed"));
    return this;
  }

  get started(): boolean {
    return this.#started && !this.#stopping;
  }

  /**
   * Insert a job in the caller's unit of work (the outbox): it exists exactly when that unit commits.
   * Returns its id, or undefined when `uniqueKey` is already taken. Wake the workers after the commit.
   */
  enqueue(
    tx: { jobs: JobStore },
    type: string,
    payload: unknown = {},
    options: EnqueueOptions = {},
  ): Promise<number | undefined> {
    const now = this.#clock.now();
    return tx.jobs.enqueue({
      type,
      payload: JSON.stringify(payload),
      runAt: options.runAt ?? now + (options.delayMs ?? 0),
      maxAttempts: options.maxAttempts ?? this.#handlers.get(type)?.maxAttempts ?? this.maxAttempts,
      uniqueKey: options.uniqueKey ?? null,
      now,
    });
  }

  /** Insert a job in a unit of its own, and wake the workers. */
  async enqueueNow(
    type: string,
    payload: unknown = {},
    options: EnqueueOptions = {},
  ): Promise<number | undefined> {
    const id = await this.#store.write((tx) => this.enqueue(tx, type, payload, options));
    if (id !== undefined) this.wake();
    return id;
  }

  /** Start polling (and make sure every recurring job has its row). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    await this.scheduleRecurring();
    this.wake();
  }

  /**
   * Run the worker loop soon (coalesced), e.g. right after a unit of work that enqueued jobs committed.
   * When this process runs no workers, or every slot here is busy, the other processes' workers are asked
   * too (`wakeOthers`).
   */
  wake(): void {
    if (!this.started || this.#running.size >= this.concurrency) this.#wakeOthers?.();
    this.wakeHere();
  }

  /** Run this process's worker loop soon (coalesced); what another process's `wakeOthers` calls. */
  wakeHere(): void {
    if (!this.started || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      void this.#pump();
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
    const now = this.#clock.now();
    for (const [id, run] of this.#running) {
      run.controller.abort(new Error("queue stopping"));
      if (await this.#transition(id, run.lock, { to: "postponed", runAt: now, error: null })) released++;
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
        const row = await this.#claim();
        if (!row) break;
        batch.push(this.#execute(row));
      }
      if (batch.length === 0) return ran;
      ran += batch.length;
      await Promise.all(batch);
    }
  }

  /** Insert (or pull forward) the row of every recurring job; running rows are left alone. */
  async scheduleRecurring(): Promise<void> {
    const now = this.#clock.now();
    const recurring = [...this.#handlers].filter(([, def]) => def.intervalMs !== undefined);
    if (recurring.length === 0) return;
    await this.#store.write(async (tx) => {
      for (const [type, def] of recurring) {
        await tx.jobs.scheduleRecurring({
          type,
          uniqueKey: recurringKey(type),
          intervalMs: def.intervalMs!,
          maxAttempts: def.maxAttempts ?? this.maxAttempts,
          now,
        });
      }
    });
  }

  /** Put a dead (or waiting) job back to run now with a fresh attempt budget. */
  async retry(id: number): Promise<JobRow | undefined> {
    const now = this.#clock.now();
    const row = await this.#store.write((tx) => tx.jobs.retry(id, now));
    if (row) this.wake();
    return row;
  }

  /** Depth by state and type, backlog and outcomes since start. */
  async stats(): Promise<QueueStats> {
    const now = this.#clock.now();
    return queueStats(await this.#store.read.jobs.counts(now), now, this.#processed);
  }

  // ---- the worker loop ----

  /**
   * Fill the free slots. A finishing job calls this again, so a busy queue never waits for the timer; the poll
   * timer is armed only when there was nothing due (for delayed jobs, retries, other processes' enqueues).
   */
  async #pump(): Promise<void> {
    if (!this.started) return;
    if (this.#pumping) {
      // Not dropped: the claim in flight may have run before the waking commit and found nothing, and the
      // next poll can be far away (a lost wake-up).
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    let idle = false;
    try {
      while (this.started && this.#running.size < this.concurrency) {
        this.#pumpAgain = false;
        const row = await this.#claim();
        if (!row) {
          if (this.#pumpAgain) continue;
          idle = true;
          break;
        }
        void this.#execute(row).finally(() => void this.#pump());
      }
    } catch (err) {
      // The database is busy or unreachable: try again at the next poll.
      this.#log.error({ err }, "job claim failed");
      idle = true;
    } finally {
      this.#pumping = false;
    }
    if (idle && this.started && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#pump();
      }, this.pollIntervalMs);
      this.#timer.unref?.();
    }
  }

  /** One atomic claim of the oldest due job (or one whose lease expired) of a type we handle. */
  #claim(): Promise<JobRow | undefined> {
    if (this.#types.length === 0) return Promise.resolve(undefined);
    const now = this.#clock.now();
    this.#claims += 1;
    const lock = `${this.workerId}:${this.#claims}`;
    return this.#store.write((tx) => tx.jobs.claim(this.#types, now, this.leaseMs, lock), SELF_GUARDED);
  }

  async #execute(row: JobRow): Promise<void> {
    const lock = row.lockedBy!;
    const def = this.#handlers.get(row.type)!;
    // The lease ran out on the final attempt: the process died running it. Do not try a fourth time forever.
    if (row.attempts > row.maxAttempts) {
      await this.#finish(row, lock, "dead", "lease expired on the final attempt");
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
        maxAttempts: row.maxAttempts,
        signal: controller.signal,
      });
      await this.#finish(row, lock, "done");
    } catch (err) {
      await this.#fail(row, lock, def, err);
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
        const running = [...this.#running];
        void this.#store
          .write(async (tx) => {
            for (const [id, run] of running) await tx.jobs.extend(id, run.lock, until);
          }, SELF_GUARDED)
          .catch((err) => this.#log.error({ err }, "job lease extension failed"));
      },
      Math.max(10, this.leaseMs / 3),
    );
    this.#heartbeat.unref?.();
  }

  async #fail(row: JobRow, lock: string, def: Registered, err: unknown): Promise<void> {
    const outcome = failureOutcome(
      err,
      { ...row, intervalMs: def.intervalMs, backoff: def.backoff ?? this.#backoff },
      this.#clock.now(),
      this.#random(),
    );
    this.#processed.failed += 1;
    const fields = { jobId: row.id, type: row.type, error: outcome.error };
    if (outcome.to === "dead") {
      this.#log.error({ ...fields, attempts: row.attempts }, "job dead");
      await this.#finish(row, lock, "dead", outcome.error);
      return;
    }
    if (outcome.to === "retry") this.#log.warn({ ...fields, attempt: row.attempts }, "job failed");
    await this.#transition(row.id, lock, outcome);
  }

  /** Mark done (a recurring job is rescheduled instead) or dead; a no-op if our claim was lost meanwhile. */
  async #finish(row: JobRow, lock: string, state: "done" | "dead", error?: string): Promise<void> {
    const now = this.#clock.now();
    const interval = this.#handlers.get(row.type)?.intervalMs;
    if (state === "done" && interval !== undefined && row.uniqueKey === recurringKey(row.type)) {
      await this.#transition(row.id, lock, { to: "next", runAt: now + interval });
    } else {
      await this.#transition(row.id, lock, { to: state, error: error ?? null });
    }
    this.#processed[state === "done" ? "completed" : "dead"] += 1;
  }

  /** Apply a transition; never throws into the worker loop (the database may be closing). */
  async #transition(id: number, lock: string, change: JobTransition): Promise<boolean> {
    const now = this.#clock.now();
    try {
      return await this.#store.write((tx) => tx.jobs.transition(id, lock, change, now), SELF_GUARDED);
    } catch (err) {
      this.#log.error({ err }, "job state update failed");
      return false;
    }
  }
}

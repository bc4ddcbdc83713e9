/**
 * The job queue on a real, migrated SQLite with a fake clock: retries, backoff, dead jobs, delays, unique
 * keys, leases, recurring jobs, draining, the concurrency limit. runDue() runs what is due at the clock's time,
 * so nothing here sleeps except the tests of the live worker loop.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import { openSqliteStore, type SqliteStore } from "../../src/infra/sqlite/store.ts";
import { FakeClock } from "../../src/lib/clock.ts";
import { EventBus } from "../../src/lib/event-bus.ts";
import { createLogger } from "../../src/lib/logger.ts";
import {
  exponentialBackoff,
  JobQueue,
  type JobQueue as JobQueueType,
  type JobRow,
  PermanentJobError,
  RetryLaterError,
} from "../../src/lib/queue.ts";
import type { WriteTx } from "../../src/store/store.ts";

const opened: SqliteStore[] = [];
const queues: JobQueueType[] = [];

/** Job rows as the queue sees them (camelCase), read straight from the table. */
const ROW = `SELECT id, type, payload, state, attempts, max_attempts AS maxAttempts, run_at AS runAt,
  locked_until AS lockedUntil, locked_by AS lockedBy, unique_key AS uniqueKey, last_error AS lastError,
  created_at AS createdAt, updated_at AS updatedAt, finished_at AS finishedAt FROM jobs`;

/** A real store on a migrated in-memory SQLite (no event listeners: the queue emits none). */
function openStore(): SqliteStore {
  const store = openSqliteStore({
    url: ":memory:",
    hooks: new EventBus<DomainEvent, WriteTx>({ onHandlerError: () => {} }),
    log: createLogger("silent"),
  });
  opened.push(store);
  return store;
}

function setup(options: Partial<ConstructorParameters<typeof JobQueue>[0]> = {}) {
  const store = openStore();
  const sqlite = store.connections.writer;
  const clock = new FakeClock();
  const queue = new JobQueue({
    store,
    clock,
    leaseMs: 30_000,
    random: () => 0, // jitter at its minimum: delays are exactly half the exponential step
    backoff: exponentialBackoff(1_000, 60_000),
    ...options,
  });
  queues.push(queue);
  const job = (id: number) => sqlite.query<JobRow, [number]>(`${ROW} WHERE id = ?`).get(id)!;
  const all = () => sqlite.query<JobRow, []>(`${ROW} ORDER BY id`).all();
  return { store, sqlite, clock, queue, job, all };
}

afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop({ deadlineMs: 10 });
  for (const store of opened.splice(0)) await store.close();
});

/** Wait (a few ms at a time) until `check` holds: claims go through the store's writer, a turn later. */
async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(1);
  }
}

/** A promise with its resolve function, to hold a handler open. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe("running jobs", () => {
  test("a job runs once with its payload and is marked done", async () => {
    const { queue, job, clock } = setup();
    const seen: unknown[] = [];
    queue.register<{ n: number }>("echo", (j) => void seen.push([j.payload, j.attempt]));
    const id = (await queue.enqueueNow("echo", { n: 7 }))!;
    expect(job(id).state).toBe("pending");
    expect(await queue.runDue()).toBe(1);
    expect(seen).toEqual([[{ n: 7 }, 1]]);
    expect(job(id)).toMatchObject({ state: "done", attempts: 1, finishedAt: clock.now(), lockedBy: null });
    expect(await queue.runDue()).toBe(0);
  });

  test("only registered types are claimed", async () => {
    const { queue, job } = setup();
    queue.register("known", () => {});
    const other = (await queue.enqueueNow("from-a-newer-version", {}))!;
    expect(await queue.runDue()).toBe(0);
    expect(job(other).state).toBe("pending");
  });

  test("a delayed job waits for its run_at", async () => {
    const { queue, job, clock } = setup();
    queue.register("later", () => {});
    const id = (await queue.enqueueNow("later", {}, { delayMs: 5_000 }))!;
    expect(await queue.runDue()).toBe(0);
    clock.advance(4_999);
    expect(await queue.runDue()).toBe(0);
    clock.advance(1);
    expect(await queue.runDue()).toBe(1);
    expect(job(id).state).toBe("done");
  });

  test("a unique key admits one job; the duplicate enqueue is a no-op", async () => {
    const { queue, all } = setup();
    queue.register("once", () => {});
    const first = await queue.enqueueNow("once", { v: 1 }, { uniqueKey: "k" });
    const second = await queue.enqueueNow("once", { v: 2 }, { uniqueKey: "k" });
    expect(first).toBeNumber();
    expect(second).toBeUndefined();
    expect(all().map((r) => r.payload)).toEqual(['{"v":1}']);
    await queue.runDue();
    // Still deduplicated after it ran, until housekeeping purges it.
    expect(await queue.enqueueNow("once", {}, { uniqueKey: "k" })).toBeUndefined();
  });
});

describe("failures", () => {
  test("retries with exponential backoff, then succeeds", async () => {
    const { queue, job, clock } = setup();
    let calls = 0;
    queue.register("flaky", () => {
      calls += 1;
      if (calls < 3) throw new Error(`failure ${calls}`);
    });
    const id = (await queue.enqueueNow("flaky", {}))!;
    const t0 = clock.now();
    await queue.runDue();
    // Attempt 1 failed: backoff(1) = 1000 ms, halved by the minimum jitter.
    expect(job(id)).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: "failure 1",
      runAt: t0 + 500,
    });
    expect(await queue.runDue()).toBe(0);
    clock.advance(500);
    await queue.runDue();
    // Attempt 2 failed: backoff(2) = 2000 ms → 1000.
    expect(job(id)).toMatchObject({ state: "pending", attempts: 2, runAt: clock.now() + 1_000 });
    clock.advance(1_000);
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "done", attempts: 3, lastError: null });
    expect(calls).toBe(3);
  });

  test("jitter spreads retries between half and all of the step", async () => {
    const backoff = exponentialBackoff(1_000, 10_000);
    expect([backoff(1, 0), backoff(1, 0.999), backoff(3, 0), backoff(3, 1)]).toEqual([
      500, 1_000, 2_000, 4_000,
    ]);
    expect(backoff(20, 1)).toBe(10_000); // capped
  });

  test("after max attempts the job is dead and stays dead", async () => {
    const { queue, job, clock } = setup({ maxAttempts: 3 });
    let calls = 0;
    queue.register("broken", () => {
      calls += 1;
      throw new Error("always");
    });
    const id = (await queue.enqueueNow("broken", {}))!;
    for (let i = 0; i < 5; i++) {
      await queue.runDue();
      clock.advance(60_000);
    }
    expect(calls).toBe(3);
    expect(job(id)).toMatchObject({ state: "dead", attempts: 3, lastError: "always" });
    expect(job(id).finishedAt).toBeNumber();
    expect(await queue.stats()).toMatchObject({ dead: 1, processed: { dead: 1, failed: 3 } });
  });

  test("a permanent error kills the job at once; retry() revives it with a fresh budget", async () => {
    const { queue, job } = setup();
    let fail = true;
    queue.register("strict", () => {
      if (fail) throw new PermanentJobError("bad payload");
    });
    const id = (await queue.enqueueNow("strict", {}))!;
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "dead", attempts: 1, lastError: "bad payload" });
    fail = false;
    expect(await queue.retry(id)).toMatchObject({ state: "pending", attempts: 0 });
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "done", attempts: 1 });
    expect(await queue.retry(id)).toBeUndefined(); // done jobs are not retried
  });

  test("RetryLaterError postpones without spending an attempt", async () => {
    const { queue, job, clock } = setup({ maxAttempts: 1 });
    let open = false;
    queue.register("waits", () => {
      if (!open) throw new RetryLaterError(10_000, "circuit open");
    });
    const id = (await queue.enqueueNow("waits", {}))!;
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "pending", attempts: 0, runAt: clock.now() + 10_000 });
    open = true;
    clock.advance(10_000);
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "done", attempts: 1 });
  });

  test("a payload that is not JSON is dead, not retried", async () => {
    const { queue, sqlite, job } = setup();
    queue.register("p", () => {});
    const id = (await queue.enqueueNow("p", {}))!;
    sqlite.run("UPDATE jobs SET payload = '{oops' WHERE id = ?", [id]);
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "dead", lastError: "payload is not JSON" });
  });
});

describe("leases", () => {
  test("a job held by a process that died runs again once its lease expires", async () => {
    const { store, clock, job } = setup();
    // Process A claims the job and never finishes (its handler hangs: as good as dead).
    const a = new JobQueue({ store, clock, leaseMs: 30_000 });
    queues.push(a);
    const hung = gate();
    a.register("work", () => hung.promise);
    const id = (await a.enqueueNow("work", {}))!;
    const running = a.runDue();
    await until(() => job(id).state === "running");
    expect(job(id)).toMatchObject({ state: "running", attempts: 1 });
    const lockA = job(id).lockedBy!;

    // Process B, started later, sees nothing to do while the lease holds…
    const b = new JobQueue({ store, clock, leaseMs: 30_000 });
    queues.push(b);
    let ranInB = 0;
    b.register("work", () => {
      ranInB += 1;
    });
    clock.advance(29_999);
    expect(await b.runDue()).toBe(0);
    // …and runs it once the lease has lapsed.
    clock.advance(2);
    expect(await b.runDue()).toBe(1);
    expect(ranInB).toBe(1);
    expect(job(id)).toMatchObject({ state: "done", attempts: 2 });

    // A's late completion must not overwrite B's result: its claim is gone.
    hung.open();
    await running;
    expect(job(id).finishedAt).toBe(clock.now());
    expect(job(id).lockedBy).toBeNull();
    expect(lockA).not.toBe(b.workerId);
  });

  test("a job whose lease lapses on its final attempt goes dead instead of looping", async () => {
    const { queue, sqlite, clock, job } = setup({ maxAttempts: 2 });
    queue.register("crashy", () => {});
    const id = (await queue.enqueueNow("crashy", {}))!;
    // Two processes died while running it (attempts 2 = max), the lease lapsed.
    sqlite.run(
      "UPDATE jobs SET state = 'running', attempts = 2, locked_until = ?, locked_by = 'gone' WHERE id = ?",
      [clock.now() - 1, id],
    );
    await queue.runDue();
    expect(job(id)).toMatchObject({ state: "dead", lastError: "lease expired on the final attempt" });
  });
});

describe("recurring jobs", () => {
  test("one row, rescheduled after each run; a slow run never overlaps the next", async () => {
    const { queue, clock, all } = setup();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let hold = gate();
    queue.every("tick", 1_000, async () => {
      active += 1;
      runs += 1;
      maxActive = Math.max(maxActive, active);
      await hold.promise;
      active -= 1;
    });
    await queue.scheduleRecurring();
    await queue.scheduleRecurring(); // idempotent: still one row
    expect(all()).toHaveLength(1);

    const first = queue.runDue();
    await Bun.sleep(0);
    // Five intervals pass while the first run is still going: nothing else starts.
    clock.advance(5_000);
    expect(await queue.runDue()).toBe(0);
    hold.open();
    await first;
    expect(all()).toMatchObject([
      { type: "tick", state: "pending", attempts: 0, runAt: clock.now() + 1_000 },
    ]);

    hold = gate();
    hold.open();
    expect(await queue.runDue()).toBe(0);
    clock.advance(1_000);
    expect(await queue.runDue()).toBe(1);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    expect(all()).toHaveLength(1);
  });

  test("a recurring job that keeps failing waits for its next slot instead of dying", async () => {
    const { queue, clock, all } = setup({ maxAttempts: 2 });
    queue.every("fragile", 60_000, () => {
      throw new Error("disk full");
    });
    await queue.scheduleRecurring();
    await queue.runDue();
    clock.advance(1_000);
    await queue.runDue();
    expect(all()[0]).toMatchObject({
      state: "pending",
      attempts: 0,
      lastError: "disk full",
      runAt: clock.now() + 60_000,
    });
  });
});

describe("the worker loop", () => {
  test("never runs more than `concurrency` jobs at once, and drains everything", async () => {
    const { queue, all } = setup({ concurrency: 2, pollIntervalMs: 5 });
    let active = 0;
    let maxActive = 0;
    queue.register("slow", async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await Bun.sleep(5);
      active -= 1;
    });
    for (let i = 0; i < 8; i++) await queue.enqueueNow("slow", { i });
    await queue.start();
    for (let i = 0; i < 400 && all().some((r) => r.state !== "done"); i++) await Bun.sleep(5);
    expect(all().map((r) => r.state)).toEqual(Array(8).fill("done"));
    expect(maxActive).toBe(2);
  });

  test("an enqueue wakes an idle worker without waiting for the poll interval", async () => {
    const { queue, job } = setup({ pollIntervalMs: 3_600_000 });
    const ran = gate();
    queue.register("now", () => ran.open());
    await queue.start();
    await Bun.sleep(5); // the worker is idle, its next poll an hour away
    const id = (await queue.enqueueNow("now", {}))!;
    await ran.promise;
    await Bun.sleep(1);
    expect(job(id).state).toBe("done");
  });

  test("stop() lets a running job finish within the deadline", async () => {
    const { queue, job } = setup({ pollIntervalMs: 5 });
    const started = gate();
    queue.register("short", async () => {
      started.open();
      await Bun.sleep(30);
    });
    const id = (await queue.enqueueNow("short", {}))!;
    await queue.start();
    await started.promise;
    expect(await queue.stop({ deadlineMs: 2_000 })).toEqual({ released: 0 });
    expect(job(id).state).toBe("done");
  });

  test("stop() releases a job still running at the deadline, attempt not counted, and aborts it", async () => {
    const { queue, job, clock } = setup({ pollIntervalMs: 5 });
    const started = gate();
    let aborted = false;
    queue.register("long", (j) => {
      started.open();
      return new Promise<void>((resolve) => {
        j.signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        });
      });
    });
    const id = (await queue.enqueueNow("long", {}))!;
    await queue.start();
    await started.promise;
    expect(await queue.stop({ deadlineMs: 20 })).toEqual({ released: 1 });
    expect(aborted).toBe(true);
    await Bun.sleep(1);
    // Back to pending, runnable at once by the next process, and the aborted handler did not mark it done.
    expect(job(id)).toMatchObject({ state: "pending", attempts: 0, lockedBy: null, runAt: clock.now() });
    expect(queue.started).toBe(false);
  });
});

test("stats count jobs by state and type, backlog and retrying", async () => {
  const { queue, clock } = setup();
  queue.register("ok", () => {});
  queue.register("bad", () => {
    throw new Error("x");
  });
  await queue.enqueueNow("ok", {});
  await queue.enqueueNow("bad", {});
  await queue.runDue();
  await queue.enqueueNow("ok", {}, { delayMs: 10_000 });
  await queue.enqueueNow("ok", {});
  clock.advance(100);
  expect(await queue.stats()).toMatchObject({
    pending: 3,
    done: 1,
    dead: 0,
    retrying: 1,
    ready: 1,
    oldestReadyAgeMs: 100,
    byType: { ok: { done: 1, pending: 2 }, bad: { pending: 1 } },
    processed: { completed: 1, failed: 1 },
  });
});

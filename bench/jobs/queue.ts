/**
 * Job queue throughput: no-op jobs on a WAL SQLite file (the server's pragmas), side by side with a baseline
 * measured in the same run: raw bun:sqlite doing the same number of row writes with no queue around them.
 *
 *   bun bench/jobs/queue.ts [--jobs 5000] [--concurrency 4]      (package.json: bun run bench:jobs)
 *
 * - baseline: INSERT each row (autocommit), then UPDATE it once and DELETE it (one row at a time): three
 *   autocommitted writes per row, what a queue must at least do (enqueue, claim, finish).
 * - enqueue: JobQueue.enqueue, one autocommitted INSERT per job.
 * - drain (worker loop): the started queue claims and runs every job with `concurrency` in flight.
 * - drain (runDue): the same claims and updates without timers, batches of `concurrency`.
 * - outbox: enqueue inside a write transaction (one per job), as the domain events do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { DomainEvent } from "../../src/events.ts";
import { openSqliteStore, type SqliteStore } from "../../src/infra/sqlite/store.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { EventBus } from "../../src/lib/event-bus.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { JobQueue } from "../../src/lib/queue.ts";
import type { WriteTx } from "../../src/store/store.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { jobs: { type: "string", default: "5000" }, concurrency: { type: "string", default: "4" } },
});
const N = Number(values.jobs);
const concurrency = Number(values.concurrency);
const dir = mkdtempSync(join(tmpdir(), "quire-bench-jobs-"));

/** A store on a fresh migrated file (the queue's own engine), with nothing listening to its events. */
function fresh(name: string): SqliteStore {
  return openSqliteStore({
    url: join(dir, `${name}.db`),
    hooks: new EventBus<DomainEvent, WriteTx>({ onHandlerError: () => {} }),
    log: createLogger("silent"),
  });
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const rows: [string, number, number][] = [];
const time = async (label: string, n: number, fn: () => unknown) => {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  rows.push([label, rate(n, ms), ms]);
};

// Baseline: the same number of rows through plain statements.
{
  const store = fresh("baseline");
  const sqlite = store.connections.writer;
  sqlite.run("CREATE TABLE scratch (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, state TEXT NOT NULL)");
  const insert = sqlite.query("INSERT INTO scratch (payload, state) VALUES ('{}', 'pending')");
  const take = sqlite.query("UPDATE scratch SET state = 'running' WHERE id = ?");
  const remove = sqlite.query("DELETE FROM scratch WHERE id = ?");
  await time("baseline: raw insert + update + delete", N, () => {
    for (let i = 0; i < N; i++) insert.run();
    for (let id = 1; id <= N; id++) {
      take.run(id);
      remove.run(id);
    }
  });
  await store.close();
}

// The queue's worker loop, end to end: enqueue, then start and wait until the last job ran.
{
  const store = fresh("worker");
  const queue = new JobQueue({ store, clock: systemClock, concurrency, pollIntervalMs: 1_000 });
  let ran = 0;
  let drained!: () => void;
  const done = new Promise<void>((r) => {
    drained = r;
  });
  queue.register("noop", () => {
    ran += 1;
    if (ran === N) drained();
  });
  await time("queue: enqueue (a unit of work each, concurrently)", N, () =>
    Promise.all(Array.from({ length: N }, (_, i) => queue.enqueueNow("noop", { i }))),
  );
  await time(`queue: drain, worker loop (concurrency ${concurrency})`, N, async () => {
    await queue.start();
    await done;
  });
  await queue.stop({ deadlineMs: 1_000 });
  await store.close();
}

// runDue: the same claims and finishes without the timer machinery.
{
  const store = fresh("rundue");
  const queue = new JobQueue({ store, clock: systemClock, concurrency });
  queue.register("noop", () => {});
  await Promise.all(Array.from({ length: N }, (_, i) => queue.enqueueNow("noop", { i })));
  await time(`queue: drain, runDue (batches of ${concurrency})`, N, () => queue.runDue());
  await store.close();
}

// The outbox pattern: each job enqueued inside a unit of work of its own (the writer groups their commits).
{
  const store = fresh("outbox");
  const queue = new JobQueue({ store, clock: systemClock, concurrency });
  queue.register("noop", () => {});
  await time("queue: enqueue in a unit of work each (outbox)", N, () =>
    Promise.all(Array.from({ length: N }, (_, i) => store.write((tx) => queue.enqueue(tx, "noop", { i })))),
  );
  await store.close();
}

rmSync(dir, { recursive: true, force: true });
console.log(`job queue, ${N} no-op jobs, WAL file, synchronous=NORMAL (bun ${Bun.version})`);
for (const [label, perSecond, ms] of rows) {
  console.log(
    `  ${label.padEnd(48)} ${String(perSecond).padStart(8)} rows/s  ${ms.toFixed(0).padStart(6)} ms`,
  );
}
const base = rows[0]![1];
const drain = rows.find((r) => r[0].startsWith("queue: drain, worker"))![1];
console.log(`  worker-loop drain is ${((drain / base) * 100).toFixed(0)}% of the raw baseline's row rate`);

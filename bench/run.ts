/**
 * `bun run bench`: seeds a temporary SQLite file (10,000 users, 100,000 articles with comments, favourites,
 * follows and the search index), starts Quire and the raw baseline (bench/baseline.ts) each in its own
 * process on its own copy of that file, and loads both with wrk on loopback, workload by workload, the two
 * servers alternating. Prints requests/s and p50/p99 latency side by side with the Quire/raw ratio, then
 * exec-to-first-response and resident memory. Timing lives here, never in tests.
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
 */
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { openMigrated } from "./lib/db.ts";
import { type LoadResult, measure, pickTool } from "./lib/load.ts";
import {
  freePort,
  quireCommand,
  quireEnv,
  root,
  rssMiB,
  type Server,
  startBaseline,
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
  return { popularTag: r.popularTag };
}

/** Sign in 64 seeded users through Quire's API; the baseline's copy gets the same sessions. */
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
  const quireDb = new Database(join(dir, "quire.db"), { readonly: true });
  const rows = quireDb.query("select id, user_id, created_at, expires_at from sessions").all() as Record<
    string,
    number | string
  >[];
  quireDb.close();
  const base = new Database(join(dir, "base.db"));
  const insert = base.prepare(
    "insert into sessions (id, user_id, created_at, expires_at) values (?, ?, ?, ?)",
  );
  base.transaction(() => {
    for (const r of rows) insert.run(r.id!, r.user_id!, r.created_at!, r.expires_at!);
  })();
  base.close();
  return tokens;
}

/** Exec to first 200, five times on a fresh process each; and the idle RSS of the last one. */
async function startup(cmd: string[]) {
  const samples: number[] = [];
  let idleRss = Number.NaN;
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    const s = await startQuire(cmd, quireEnv(join(dir, "start.db"), port, secret, dir));
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

async function main() {
  const tool = pickTool(log);
  const { cmd: quireCmd, label } = quireCommand();
  log(`quire: ${label}; load: ${tool}, ${connections} connections, ${seconds} s per run, ${rounds} round(s)`);
  const { popularTag } = await seed();

  const start = await startup(quireCmd);
  log(
    `exec to first response: median ${start.startMs.toFixed(1)} ms (${start.samples.map((s) => s.toFixed(0)).join(", ")})`,
  );

  const profileArgs = profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
  const cmd = profile ? [process.execPath, join(root, "src", "main.ts"), "serve"] : quireCmd;
  const quire = await startQuire(
    cmd,
    quireEnv(join(dir, "quire.db"), await freePort(), secret, dir),
    profileArgs,
  );
  servers.push(quire);
  const tokens = await signIn(quire);
  const baseline = await startBaseline(join(dir, "base.db"), await freePort(), secret);
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
      const spec = w.spec({ articles: articleCount, popularTag, tokens, run: `r${round}` });
      if (round === 0 && w.sameBytes)
        bytes.set(w.id, await sameBytes(quire, baseline, spec.paths[0]!, spec.tokens?.[0]));
      const order = round % 2 === 0 ? [quire, baseline] : [baseline, quire];
      const entry = results.get(w.id) ?? { quire: [], baseline: [] };
      for (const s of order) {
        const r = await measure(spec, { tool, baseUrl: s.url, seconds, connections, dir });
        entry[s.name as "quire" | "baseline"].push(r);
        log(
          `${w.id} ${s.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
      results.set(w.id, entry);
    }
  }
  const loadedRss = rssMiB(quire.proc.pid);

  const rows = selected.map((w) => {
    const e = results.get(w.id)!;
    const m = (rs: LoadResult[], k: keyof LoadResult) => median(rs.map((r) => r[k]));
    const q = {
      rps: m(e.quire, "rps"),
      p50: m(e.quire, "p50Ms"),
      p99: m(e.quire, "p99Ms"),
      err: m(e.quire, "errors"),
    };
    const b = { rps: m(e.baseline, "rps"), p50: m(e.baseline, "p50Ms"), p99: m(e.baseline, "p99Ms") };
    const same = bytes.has(w.id) ? (bytes.get(w.id) ? "" : " (bytes differ!)") : "";
    return `| ${w.title}${same} | ${fmt(q.rps)} | ${fmt(q.p50, 2)} | ${fmt(q.p99, 2)} | ${fmt(b.rps)} | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} | ${(q.rps / b.rps).toFixed(2)}${q.err ? ` (${fmt(q.err)} errors)` : ""} |`;
  });
  const cpu = cpus();
  console.log(`
Quire ${label} vs raw Bun.serve + bun:sqlite (bench/baseline.ts); ${tool}, 1 thread, ${connections} connections, ${seconds} s per run, ${rounds === 1 ? "1 round" : `median of ${rounds} rounds`}.
Corpus: ${userCount.toLocaleString("en-US")} users, ${articleCount.toLocaleString("en-US")} articles. Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}, ${process.platform}.

| workload | Quire req/s | p50 ms | p99 ms | raw req/s | p50 ms | p99 ms | Quire/raw |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

Exec to first response (Quire, 100k-article database, median of 5): ${start.startMs.toFixed(1)} ms
RSS: idle after start ${start.idleRss.toFixed(1)} MiB; signed in and idle ${idleRss.toFixed(1)} MiB; after the load ${loadedRss.toFixed(1)} MiB`);
}

try {
  await main();
} finally {
  for (const s of servers) await stop(s).catch(() => {});
  if (profile) log(`CPU profile (.cpuprofile and .md) in ${profileDir}`);
  rmSync(dir, { recursive: true, force: true });
}

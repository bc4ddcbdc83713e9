/**
 * `bun run bench`: seeds a temporary SQLite file (10,000 users, 100,000 articles with comments, favourites,
 * follows and the search index) and compares Quire, in its own process, with two reference servers on
 * loopback, workload by workload, the servers alternating:
 * - "SQL raw" (bench/baseline.ts): `Bun.serve` + bun:sqlite running the same SQL on every request and
 *   sending the same JSON bytes, with no framework and no cache;
 * - "same bytes" (bench/raw.ts): `Bun.serve` replaying Quire's own answers (status, headers, body) from
 *   memory, the physical limit of a cached read; compared on the reads.
 * Prints requests/s and p50/p99 latency with the Quire/reference ratios, and the server's own CPU time per
 * request (from /proc, all threads: steadier than req/s when other processes share the cores); then start-up (exec to first 200,
 * `--version` and `--help`) beside a compiled hello world in the same run, and resident memory: idle after
 * start, signed in, after the load and after a minute of idling. Timing lives here, never in tests.
 *
 * Environment (all optional):
 *   BENCH_DURATION=10      seconds per workload per server
 *   BENCH_CONNECTIONS=64   concurrent connections (wrk runs one thread)
 *   BENCH_ROUNDS=1         rounds; with more, each figure is the median (order alternates per round)
 *   BENCH_WORKLOADS=…      comma-separated ids to run (slug,slug-auth,live,list,tag,feed,tags,create,comment,
 *                          favorite); "none" skips the load and measures start-up and memory only
 *   BENCH_STARTS=5         start-up samples of each binary
 *   BENCH_IDLE_SECONDS=60  idling after the load before the last RSS reading
 *   BENCH_USERS=10000 BENCH_ARTICLES=100000   corpus size
 *   BENCH_QUIRE=<path>     the Quire binary to run (default: dist/quire if fresh, else one built from src/)
 *   BENCH_PROFILE=1        run Quire from source under `bun --cpu-prof`; the profile (and a markdown
 *                          summary) is written on exit to $TMPDIR/quire-bench-profiles
 *   CACHE_TTL_MS=0         passed to Quire: measure it without its caches
 */
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { openMigrated } from "./lib/db.ts";
import { type LoadResult, measure, pickTool } from "./lib/load.ts";
import {
  freePort,
  quireEnv,
  root,
  rssMiB,
  type Server,
  startBaseline,
  startQuire,
  startSameBytes,
  stop,
} from "./lib/servers.ts";
import { cpuMs, helloBinary, measureStartup, quireBinary, startupRows } from "./lib/startup.ts";
import { type Reference, type WorkloadContext, workloads } from "./lib/workloads.ts";
import type { Answer } from "./raw.ts";
import { seedDatabase } from "./seed.ts";

const env = (name: string, fallback: number, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
};
const seconds = env("BENCH_DURATION", 10);
const connections = env("BENCH_CONNECTIONS", 64);
const rounds = env("BENCH_ROUNDS", 1);
const starts = env("BENCH_STARTS", 5);
const idleSeconds = env("BENCH_IDLE_SECONDS", 60, 0);
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

/**
 * Quire's answers to every (path, token) pair the same-bytes workloads send, as wrk sends them (no
 * Accept-Encoding, so identity bodies): what bench/raw.ts replays.
 */
async function captureAnswers(quire: Server, context: WorkloadContext): Promise<Answer[]> {
  const pairs: { path: string; authorization?: string }[] = [];
  for (const w of selected) {
    if (!w.refs?.includes("bytes")) continue;
    const spec = w.spec(context);
    const auths = spec.tokens?.length ? spec.tokens.map((t) => `Token ${t}`) : [undefined];
    for (const path of spec.paths) for (const authorization of auths) pairs.push({ path, authorization });
  }
  const answers: Answer[] = [];
  for (let i = 0; i < pairs.length; i += 32) {
    const batch = pairs.slice(i, i + 32).map(async ({ path, authorization }): Promise<Answer> => {
      const headers: Record<string, string> = { "accept-encoding": "identity" };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(`${quire.url}${path}`, { headers, decompress: false });
      if (res.headers.has("content-encoding")) throw new Error(`${path}: answered encoded`);
      return { path, authorization, status: res.status, headers: [...res.headers], body: await res.text() };
    });
    answers.push(...(await Promise.all(batch)));
  }
  const bad = answers.find((a) => a.status !== 200);
  if (bad) throw new Error(`${bad.path}: ${bad.status} ${bad.body.slice(0, 200)}`);
  return answers;
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

type Name = "quire" | Reference;
const names: Record<Name, string> = { quire: "quire", sql: "SQL raw", bytes: "same bytes" };

async function main() {
  const tool = pickTool(log);
  const { popularTag } = await seed();

  // Start-up first, on a quiet machine: the compiled binary and a compiled hello world, alternating.
  const [quireBin, hello] = await Promise.all([quireBinary(dir), helloBinary(dir)]);
  log(
    `quire: ${quireBin}; load: ${tool}, ${connections} connections, ${seconds} s per run, ${rounds} round(s)`,
  );
  const startup = await measureStartup(quireBin, hello, {
    db: join(dir, "start.db"),
    secret,
    dir,
    runs: starts,
  });
  for (const line of startupRows(startup)) log(line);

  const profileArgs = profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
  const cmd = profile ? [process.execPath, join(root, "src", "main.ts"), "serve"] : [quireBin, "serve"];
  const quire = await startQuire(
    cmd,
    quireEnv(join(dir, "quire.db"), await freePort(), secret, dir),
    profileArgs,
  );
  servers.push(quire);
  await Bun.sleep(2000);
  const idleRss = rssMiB(quire.proc.pid);
  const tokens = await signIn(quire);
  const signedInRss = rssMiB(quire.proc.pid);
  const context = (run: string): WorkloadContext => ({ articles: articleCount, popularTag, tokens, run });

  const refs: Partial<Record<Reference, Server>> = {};
  if (selected.some((w) => (w.refs ?? ["sql"]).includes("sql"))) {
    refs.sql = await startBaseline(join(dir, "base.db"), await freePort(), secret);
    servers.push(refs.sql);
  }
  if (selected.some((w) => w.refs?.includes("bytes"))) {
    const file = join(dir, "answers.json");
    writeFileSync(file, JSON.stringify(await captureAnswers(quire, context("r0"))));
    refs.bytes = await startSameBytes(file, await freePort());
    servers.push(refs.bytes);
  }

  const results = new Map<string, Partial<Record<Name, LoadResult[]>>>();
  const cpuPerRequest = new Map<string, number[]>();
  const bytes = new Map<string, boolean>();
  // Warm-up: JIT and page cache on every side, so the first workload is not the one that pays for it.
  const warm = { tool, seconds: Math.min(2, seconds), connections, dir };
  for (const s of [quire, refs.sql, refs.bytes]) {
    if (s) await measure({ method: "GET", paths: ["/api/articles"] }, { ...warm, baseUrl: s.url });
  }

  for (let round = 0; round < rounds; round++) {
    for (const w of selected) {
      const spec = w.spec(context(`r${round}`));
      const against = (w.refs ?? ["sql"]).map((r) => refs[r]!);
      if (round === 0 && w.sameBytes && refs.sql)
        bytes.set(w.id, await sameBytes(quire, refs.sql, spec.paths[0]!, spec.tokens?.[0]));
      const order = round % 2 === 0 ? [quire, ...against] : [...against, quire];
      const entry = results.get(w.id) ?? {};
      for (const s of order) {
        const cpuBefore = cpuMs(s.proc.pid);
        const r = await measure(spec, { tool, baseUrl: s.url, seconds, connections, dir });
        const name = s.name as Name;
        entry[name] = [...(entry[name] ?? []), r];
        // The server's own CPU (all its threads) per answered request: less sensitive than req/s to wrk and
        // other processes taking the cores.
        cpuPerRequest.set(`${w.id} ${name}`, [
          ...(cpuPerRequest.get(`${w.id} ${name}`) ?? []),
          ((cpuMs(s.proc.pid) - cpuBefore) * 1000) / r.requests,
        ]);
        log(
          `${w.id} ${names[name]}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
      results.set(w.id, entry);
    }
  }
  const loadedRss = rssMiB(quire.proc.pid);
  const idled: string[] = [];
  for (let waited = 0; waited < idleSeconds; waited += 10) {
    await Bun.sleep(Math.min(10, idleSeconds - waited) * 1000);
    idled.push(`${Math.min(waited + 10, idleSeconds)} s: ${rssMiB(quire.proc.pid).toFixed(0)}`);
  }
  const idleAfterRss = rssMiB(quire.proc.pid);

  const rows = selected.map((w) => {
    const e = results.get(w.id) ?? {};
    const m = (rs: LoadResult[] | undefined, k: keyof LoadResult) =>
      rs ? median(rs.map((r) => r[k])) : Number.NaN;
    const q = { rps: m(e.quire, "rps"), p50: m(e.quire, "p50Ms"), p99: m(e.quire, "p99Ms") };
    const err = m(e.quire, "errors");
    const ref = (r: Reference) => {
      const rps = m(e[r], "rps");
      if (Number.isNaN(rps)) return "| | | ";
      return `| ${fmt(rps)} | ${fmt(m(e[r], "p99Ms"), 2)} | ${(q.rps / rps).toFixed(2)} `;
    };
    const same = bytes.has(w.id) ? (bytes.get(w.id) ? "" : " (bytes differ!)") : "";
    const cpu = (name: Name) => median(cpuPerRequest.get(`${w.id} ${name}`) ?? [Number.NaN]);
    const cpuCell = w.refs?.includes("bytes")
      ? `${fmt(cpu("quire"))} / ${fmt(cpu("bytes"))} (${(cpu("bytes") / cpu("quire")).toFixed(2)})`
      : fmt(cpu("quire"));
    return `| ${w.title}${same} | ${fmt(q.rps)} | ${fmt(q.p50, 2)} | ${fmt(q.p99, 2)}${err ? ` (${fmt(err)} errors)` : ""} ${ref("sql")}${ref("bytes")}| ${cpuCell} |`;
  });
  const cpu = cpus();
  const label = profile ? "bun --cpu-prof src/main.ts (profiled)" : `${quireBin} (compiled)`;
  console.log(`
Quire (${label}) vs "SQL raw" (Bun.serve + bun:sqlite, bench/baseline.ts) and "same bytes" (Bun.serve replaying Quire's answers from memory, bench/raw.ts); ${tool}, 1 thread, ${connections} connections, ${seconds} s per run, ${rounds === 1 ? "1 round" : `median of ${rounds} rounds`}.
Corpus: ${userCount.toLocaleString("en-US")} users, ${articleCount.toLocaleString("en-US")} articles. Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}, ${process.platform}.

| workload | Quire req/s | p50 ms | p99 ms | SQL raw req/s | p99 ms | Quire/SQL raw | same bytes req/s | p99 ms | Quire/same bytes | server CPU µs/request: Quire / same bytes (ratio) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

Start-up (${articleCount.toLocaleString("en-US")}-article database, median of ${starts}, alternating with a compiled hello world):

| | Quire (compiled) | hello world (compiled) | ratio |
| --- | ---: | ---: | ---: |
${startupRows(startup).join("\n")}

RSS (MiB): idle after start ${idleRss.toFixed(1)}; signed in (64 sessions) ${signedInRss.toFixed(1)}; after the load ${loadedRss.toFixed(1)}; after ${idleSeconds} s idle ${idleAfterRss.toFixed(1)}${idled.length ? ` (${idled.join(", ")})` : ""}`);
}

try {
  await main();
} finally {
  for (const s of servers) await stop(s).catch(() => {});
  if (profile) log(`CPU profile (.cpuprofile and .md) in ${profileDir}`);
  rmSync(dir, { recursive: true, force: true });
}

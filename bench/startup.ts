/**
 * `bun bench/startup.ts`: exec to first 200, the way `bun run bench` measures it (spawn, then poll
 * `GET /api/tags` every millisecond until it answers 200), for the compiled Quire binary on an existing
 * database and, in the same run and alternating with it, for a compiled "hello world" `Bun.serve` built with
 * the same flags: the floor any compiled Bun server pays on this machine. Prints min, median and max, and
 * the CPU time (user + system, all threads) each process had used by then: on a busy machine the wall time
 * also counts waiting for a core, the CPU time much less so.
 *
 * Environment (all optional):
 *   BENCH_RUNS=9           measured starts of each (after one warm-up start each)
 *   BENCH_ARTICLES=0       seed the database with this many articles first (10 users per 100 articles)
 *   BENCH_QUIRE=<path>     the Quire binary (default: dist/quire if fresh, else built into a temp dir)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMigrated } from "./lib/db.ts";
import { freePort, quireCommand, quireEnv, root, startQuire, stop } from "./lib/servers.ts";
import { seedDatabase } from "./seed.ts";

const runs = Number(process.env.BENCH_RUNS ?? 9);
const articles = Number(process.env.BENCH_ARTICLES ?? 0);
const dir = mkdtempSync(join(tmpdir(), "quire-startup-"));
const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;

async function build(args: string[], what: string): Promise<void> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: "ignore", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`building ${what} failed`);
}

/** Quire's binary: the bench's usual choice, or a fresh build when only the sources are fresh. */
async function quireBinary(): Promise<string[]> {
  const { cmd } = quireCommand();
  if (!cmd[1]?.endsWith("main.ts")) return cmd;
  const out = join(dir, "quire");
  await build(["scripts/build.ts", "--outfile", out], "quire");
  return [out, "serve"];
}

/** A compiled hello world, with the flags scripts/build.ts uses for Quire. */
async function helloBinary(): Promise<string[]> {
  const src = join(dir, "hello.ts");
  writeFileSync(
    src,
    `Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => Response.json({ tags: [] }) });\n`,
  );
  const out = join(dir, "hello");
  await build(
    [
      "build",
      "--compile",
      "--minify-whitespace",
      "--minify-syntax",
      "--bytecode",
      "--format=esm",
      src,
      "--outfile",
      out,
    ],
    "hello world",
  );
  return [out];
}

/** An existing, migrated (optionally seeded) database: what a restart finds. */
function prepareDatabase(): string {
  const file = join(dir, "start.db");
  const { sqlite } = openMigrated(file);
  if (articles > 0)
    seedDatabase(sqlite, { users: Math.max(10, articles / 10), articles, search: true, passwordHash: "x" });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  return file;
}

/** User + system CPU milliseconds of a running process (Linux; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may contain spaces: utime is the 12th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function startOnce(cmd: string[], db: string): Promise<{ wall: number; cpu: number }> {
  const port = await freePort();
  const server = await startQuire(cmd, quireEnv(db, port, secret, dir));
  const cpu = cpuMs(server.proc.pid);
  await stop(server);
  return { wall: server.startMs, cpu };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};

try {
  const [quire, hello] = await Promise.all([quireBinary(), helloBinary()]);
  const db = prepareDatabase();
  await startOnce(quire, db);
  await startOnce(hello, db);
  const samples = {
    quire: [] as { wall: number; cpu: number }[],
    hello: [] as { wall: number; cpu: number }[],
  };
  for (let i = 0; i < runs; i++) {
    // Alternating, so a machine that slows down during the run slows both down.
    samples.quire.push(await startOnce(quire, db));
    samples.hello.push(await startOnce(hello, db));
  }
  const line = (name: string, xs: { wall: number; cpu: number }[]) => {
    const wall = stats(xs.map((x) => x.wall));
    const cpu = stats(xs.map((x) => x.cpu));
    return `${name.padEnd(24)} median ${wall.median.toFixed(0).padStart(4)} ms (min ${wall.min.toFixed(0)}, max ${wall.max.toFixed(0)}); CPU by then: median ${cpu.median} ms`;
  };
  console.log(`exec to first 200, ${runs} starts each, alternating; database: ${articles} articles`);
  console.log(line("quire (compiled)", samples.quire));
  console.log(line("hello world (compiled)", samples.hello));
  console.log(`all quire starts: ${samples.quire.map((x) => x.wall.toFixed(0)).join(", ")} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

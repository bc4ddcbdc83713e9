/**
 * `bun bench/startup.ts`: exec to first 200, the way `bun run bench` measures it (spawn, then poll
 * `GET /api/tags` every millisecond until it answers 200), for the compiled Quire binary on an existing
 * database and, in the same run and alternating with it, for a compiled "hello world" `Bun.serve` built with
 * the same flags: the floor any compiled Bun server pays on this machine. Prints min, median and max.
 *
 * Environment (all optional):
 *   BENCH_RUNS=7           measured starts of each (after one warm-up start each)
 *   BENCH_ARTICLES=0       seed the database with this many articles first (10 users per 100 articles)
 *   BENCH_QUIRE=<path>     the Quire binary (default: dist/quire if fresh, else built into a temp dir)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/db/client.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { freePort, quireCommand, quireEnv, root, startQuire, stop } from "./lib/servers.ts";
import { seedDatabase } from "./seed.ts";

const runs = Number(process.env.BENCH_RUNS ?? 7);
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
  const { db, sqlite } = openDatabase(file);
  applyMigrations(db);
  if (articles > 0)
    seedDatabase(sqlite, { users: Math.max(10, articles / 10), articles, search: true, passwordHash: "x" });
  sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite.close();
  return file;
}

async function startOnce(cmd: string[], db: string): Promise<number> {
  const port = await freePort();
  const server = await startQuire(cmd, quireEnv(db, port, secret, dir));
  await stop(server);
  return server.startMs;
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
  const samples = { quire: [] as number[], hello: [] as number[] };
  for (let i = 0; i < runs; i++) {
    // Alternating, so a machine that slows down during the run slows both down.
    samples.quire.push(await startOnce(quire, db));
    samples.hello.push(await startOnce(hello, db));
  }
  const line = (name: string, xs: number[]) => {
    const { min, median, max } = stats(xs);
    return `${name.padEnd(26)} median ${median.toFixed(0).padStart(4)} ms   (min ${min.toFixed(0)}, max ${max.toFixed(0)}; ${xs.map((x) => x.toFixed(0)).join(", ")})`;
  };
  console.log(`exec to first 200, ${runs} starts each, alternating; database: ${articles} articles`);
  console.log(line("quire (compiled)", samples.quire));
  console.log(line("hello world (compiled)", samples.hello));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

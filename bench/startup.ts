/**
 * `bun bench/startup.ts`: start-up alone, the way `bun run bench` measures it (bench/lib/startup.ts): exec
 * to first 200 for the compiled Quire binary on an existing database, and exec to exit for `quire --version`
 * and `--help`, each beside a compiled "hello world" built with the same flags, alternating. Prints the
 * median with min and max, and the CPU time (user + system, all threads) each server had used by its first
 * answer: on a busy machine the wall time also counts waiting for a core, the CPU time much less so.
 *
 * Environment (all optional):
 *   BENCH_RUNS=9           measured starts of each (after one warm-up start each)
 *   BENCH_ARTICLES=0       seed the database with this many articles first (10 users per 100 articles)
 *   BENCH_QUIRE=<path>     the Quire binary (default: dist/quire if fresh, else built into a temp dir)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMigrated } from "./lib/db.ts";
import { helloBinary, measureStartup, quireBinary, startupRows } from "./lib/startup.ts";
import { seedDatabase } from "./seed.ts";

const runs = Number(process.env.BENCH_RUNS ?? 9);
const articles = Number(process.env.BENCH_ARTICLES ?? 0);
const dir = mkdtempSync(join(tmpdir(), "quire-startup-"));
const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;

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

try {
  const [quire, hello] = await Promise.all([quireBinary(dir), helloBinary(dir)]);
  const report = await measureStartup(quire, hello, { db: prepareDatabase(), secret, dir, runs });
  console.log(`Start-up, ${runs} runs of each, alternating; database: ${articles} articles.

| | Quire (compiled) | hello world (compiled) | ratio |
| --- | ---: | ---: | ---: |
${startupRows(report).join("\n")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

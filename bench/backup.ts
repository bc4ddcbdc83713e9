/**
 * `bun bench/backup.ts`: what an online backup costs the serving thread. Builds a temporary SQLite file of
 * BENCH_BACKUP_MB (default 100) MiB, then copies it with VACUUM INTO twice: on the calling thread (the
 * baseline: what the CLI does, and what the server would do without a worker) and in the worker thread the
 * server uses (src/infra/sqlite/vacuum-worker.ts). For each: wall time, and the longest the event loop went
 * without running a 5 ms timer (how long requests would wait). Timing lives here, never in tests.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vacuumIntoSync } from "../src/infra/sqlite/backup.ts";
import { vacuumIntoInWorker } from "../src/infra/sqlite/vacuum-worker.ts";

const mib = Number(process.env.BENCH_BACKUP_MB ?? 100);
const dir = mkdtempSync(join(tmpdir(), "quire-bench-backup-"));
const source = join(dir, "source.db");
const db = new Database(source, { create: true });
db.run("PRAGMA journal_mode = WAL");
db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
db.transaction(() => {
  for (let i = 0; i < mib * 1024; i++) insert.run(`${"x".repeat(1000)}${i}`);
})();

/** Run `copy` while a 5 ms timer measures the longest gap between its runs. */
async function measure(copy: (target: string) => void | Promise<void>, target: string) {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  await copy(target);
  const wall = performance.now() - started;
  await Bun.sleep(20); // let the timer observe the end of a blocking copy
  clearInterval(timer);
  return { wall, worst };
}

try {
  const inline = await measure((t) => vacuumIntoSync(db, t), join(dir, "inline.db"));
  const worker = await measure((t) => vacuumIntoInWorker(source, t), join(dir, "worker.db"));
  const row = (name: string, r: { wall: number; worst: number }) =>
    `${name.padEnd(26)}${r.wall.toFixed(0).padStart(8)} ms${r.worst.toFixed(0).padStart(12)} ms`;
  console.log(`VACUUM INTO of a ${mib} MiB database (${Bun.file(source).size} bytes)`);
  console.log(`${"".padEnd(26)}${"wall".padStart(11)}${"longest stall".padStart(15)}`);
  console.log(row("calling thread (baseline)", inline));
  console.log(row("worker thread (server)", worker));
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

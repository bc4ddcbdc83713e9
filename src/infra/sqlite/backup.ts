/**
 * Online backups of an SQLite file with `VACUUM INTO`: SQLite copies one read transaction's snapshot into a
 * new, compact database file, so the copy is consistent while writers keep writing (WAL readers never block
 * writers).
 *
 * Safety of the file itself:
 * - The copy is written to a temporary name beside the target, fsynced, made owner-only (it holds password
 *   hashes and session data), then linked to the final name, which fails if that name exists: an existing
 *   file is never overwritten, not even one that appeared during the copy. The directory is fsynced last.
 * - In a server the copy runs on its own connection in a worker thread (./vacuum-worker.ts): a large
 *   database takes about 4 ms per MB to copy, and requests keep being served meanwhile. `:memory:`
 *   databases (tests) are copied on the caller's connection.
 */
import type { Database } from "bun:sqlite";
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fsyncPath } from "../../lib/fsync.ts";
import { BackupExists } from "../../store/ops.ts";
import { vacuumIntoInWorker } from "./vacuum-worker.ts";

/** SQL string literal (VACUUM INTO takes an expression, not a bound parameter in every SQLite build). */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Copy the database on `sqlite` into `file` (which must not exist). Synchronous: blocks this thread. */
export function vacuumIntoSync(sqlite: Database, file: string): void {
  sqlite.run(`VACUUM INTO ${literal(file)}`);
}

/**
 * Make a consistent copy of the database at `source` (or on `sqlite` for `:memory:`) in `file`. Refuses an
 * existing target. Returns the copy's size in bytes.
 */
export async function backupTo(
  source: { path: string; sqlite?: Database },
  file: string,
  options: { inWorker?: boolean } = {},
): Promise<number> {
  if (existsSync(file)) throw new BackupExists(file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.partial`);
  try {
    if (source.path === ":memory:" || options.inWorker === false) {
      if (!source.sqlite) throw new Error("backupTo: an in-memory database needs its connection");
      vacuumIntoSync(source.sqlite, temp);
    } else {
      await vacuumIntoInWorker(source.path, temp);
    }
    chmodSync(temp, 0o600);
    fsyncPath(temp, "r+");
    try {
      linkSync(temp, file); // atomic, and fails with EEXIST instead of replacing
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new BackupExists(file);
      // Filesystems without hard links: rename, having checked the name is free.
      if (existsSync(file)) throw new BackupExists(file);
      renameSync(temp, file);
    }
    fsyncPath(dirname(file));
    return statSync(file).size;
  } finally {
    rmSync(temp, { force: true });
  }
}

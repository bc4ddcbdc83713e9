/**
 * Online backups with `VACUUM INTO`: SQLite copies one read transaction's snapshot into a new, compact
 * database file, so the copy is consistent while writers keep writing (WAL readers never block writers).
 *
 * Safety of the file itself:
 * - The copy is written to a temporary name beside the target, fsynced, made owner-only (it holds password
 *   hashes and session data), then linked to the final name, which fails if that name exists: an existing
 *   file is never overwritten, not even one that appeared during the copy. The directory is fsynced last.
 * - In a server the copy runs on its own connection in a worker thread (worker.ts): a large database takes
 *   about 4 ms per MB to copy, and requests keep being served meanwhile. `:memory:` databases (tests) are
 *   copied on the caller's connection.
 */
import type { Database } from "bun:sqlite";
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { fsyncPath } from "../../lib/fsync.ts";
import { vacuumIntoInWorker } from "./worker.ts";

export interface BackupInfo {
  name: string;
  size: number;
  createdAt: string;
}

export class BackupExists extends AppError {
  override name = "BackupExists";
  constructor(file: string) {
    super(409, { backup: [`${basename(file)} already exists`] });
  }
}

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

/** `backupDatabase(ctx, file)`: a consistent online copy of the app database into `file`. */
export function backupDatabase(ctx: AppContext, file: string): Promise<number> {
  return backupTo({ path: ctx.config.DATABASE_URL, sqlite: ctx.sqlite }, file);
}

/** Where the server keeps backups it makes. */
export const backupsDir = (ctx: AppContext) => join(ctx.config.DATA_DIR, "backups");

export type BackupKind = "manual" | "scheduled";
const NAME = /^(manual|scheduled)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.db$/;

/** `manual-2025-01-31T12-00-00-000Z.db`: sortable, no colons (portable file names). */
export function backupName(kind: BackupKind, now: number): string {
  return `${kind}-${new Date(now).toISOString().replaceAll(":", "-").replace(".", "-")}.db`;
}

/** Backups in `dir` made by the server (other files are left alone), newest first. */
export function listBackups(dir: string): BackupInfo[] {
  let names: string[];
  try {
    names = Array.from(new Bun.Glob("*.db").scanSync({ cwd: dir, onlyFiles: true }));
  } catch {
    return []; // no directory yet
  }
  return names
    .filter((n) => NAME.test(n))
    .map((name) => {
      const st = statSync(join(dir, name));
      return { name, size: st.size, createdAt: st.mtime.toISOString() };
    })
    .sort((a, b) => (stamp(b.name) < stamp(a.name) ? -1 : 1));
}

const stamp = (name: string) => NAME.exec(name)?.[2] ?? "";

/** Delete all but the newest `keep` scheduled backups; manual ones are the operator's to delete. */
export function pruneBackups(dir: string, keep: number): string[] {
  const scheduled = listBackups(dir).filter((b) => b.name.startsWith("scheduled-"));
  const removed = scheduled.slice(keep).map((b) => b.name);
  for (const name of removed) rmSync(join(dir, name), { force: true });
  return removed;
}

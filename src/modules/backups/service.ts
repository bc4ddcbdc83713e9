/**
 * Backups made by the server: names, listing and pruning of `$DATA_DIR/backups`. The copy itself is the
 * engine's (ctx.engine.backup: SQLite `VACUUM INTO` in a worker thread, src/infra/sqlite/backup.ts, into a
 * `.db` file; Postgres `pg_dump --format=custom`, src/infra/postgres/dump.ts, into a `.dump` file):
 * consistent while the server keeps serving, written owner-only, never over an existing file.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AppContext } from "../../context.ts";

export { BackupExists } from "../../store/ops.ts";

export interface BackupInfo {
  name: string;
  size: number;
  createdAt: string;
}

/** `backupDatabase(ctx, file)`: a consistent online copy of the app database into `file`. */
export function backupDatabase(ctx: AppContext, file: string): Promise<number> {
  return ctx.engine.backup(file);
}

/** Where the server keeps backups it makes. */
export const backupsDir = (ctx: AppContext) => join(ctx.config.DATA_DIR, "backups");

export type BackupKind = "manual" | "scheduled";
const NAME = /^(manual|scheduled)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.(db|dump)$/;

/**
 * `manual-2025-01-31T12-00-00-000Z.db`: sortable, no colons (portable file names). The extension is the
 * engine's (`.db` SQLite, `.dump` Postgres).
 */
export function backupName(kind: BackupKind, now: number, extension = ".db"): string {
  return `${kind}-${new Date(now).toISOString().replaceAll(":", "-").replace(".", "-")}${extension}`;
}

/** Backups in `dir` made by the server (other files are left alone), newest first. */
export function listBackups(dir: string): BackupInfo[] {
  let names: string[];
  try {
    names = Array.from(new Bun.Glob("*.{db,dump}").scanSync({ cwd: dir, onlyFiles: true }));
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

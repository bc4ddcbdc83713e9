/**
 * `quire backup <file>`: a consistent copy of the database into <file> (SQLite `VACUUM INTO`), safe while the
 * server runs: it reads one snapshot and never blocks the server's writes. Refuses an existing <file>.
 * Exit 0 written, 1 failed (no database, target exists, disk full), 2 usage.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { backupTo } from "../infra/sqlite/backup.ts";
import type { Logger } from "../lib/logger.ts";
import { BackupExists } from "../store/ops.ts";

export async function backup(
  config: Readonly<Config>,
  log: Logger,
  file: string | undefined,
): Promise<number> {
  if (!file) {
    process.stderr.write("quire backup: missing <file>\n  usage: quire backup <file>\n");
    return 2;
  }
  const database = config.DATABASE_URL;
  if (database === ":memory:" || !existsSync(database)) {
    process.stderr.write(`quire backup: no database at ${database}\n`);
    return 1;
  }
  const target = resolve(file);
  // Read-only: a backup must never create, migrate or change the database it copies.
  const sqlite = new Database(database, { readonly: true });
  try {
    sqlite.run("PRAGMA busy_timeout = 5000");
    const started = performance.now();
    const size = await backupTo({ path: database, sqlite }, target, { inWorker: false });
    log.info(
      { database, file: target, size, durationMs: Math.round(performance.now() - started) },
      "backup written",
    );
    return 0;
  } catch (err) {
    if (err instanceof BackupExists) {
      process.stderr.write(`quire backup: ${target} already exists; choose a new name\n`);
      return 1;
    }
    throw err;
  } finally {
    sqlite.close();
  }
}

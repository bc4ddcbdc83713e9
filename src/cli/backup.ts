/**
 * `quire backup <file>`: a consistent copy of the database into <file> (SQLite `VACUUM INTO`; Postgres
 * `pg_dump --format=custom`, which must be on PATH), safe while the server runs: it reads one snapshot and
 * never blocks the server's writes. Refuses an existing <file>.
 * Exit 0 written, 1 failed (no database, target exists, disk full, no pg_dump), 2 usage.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { dumpTo, PgToolFailed, PgToolMissing } from "../infra/postgres/dump.ts";
import { backupTo } from "../infra/sqlite/backup.ts";
import { isPostgresUrl, redactDatabaseUrl } from "../lib/database-url.ts";
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
  if (isPostgresUrl(database)) return backupPostgres(database, resolve(file), log);
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

async function backupPostgres(url: string, target: string, log: Logger): Promise<number> {
  const started = performance.now();
  try {
    const size = await dumpTo(url, target);
    const durationMs = Math.round(performance.now() - started);
    log.info({ database: redactDatabaseUrl(url), file: target, size, durationMs }, "backup written");
    return 0;
  } catch (err) {
    if (err instanceof BackupExists) {
      process.stderr.write(`quire backup: ${target} already exists; choose a new name\n`);
      return 1;
    }
    if (err instanceof PgToolMissing) {
      process.stderr.write(`quire backup: ${err.fields.backup![0]}\n`);
      return 1;
    }
    if (err instanceof PgToolFailed) {
      process.stderr.write(`quire backup: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

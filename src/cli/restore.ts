/**
 * `quire restore <file>`: replace the database with a backup, with the server stopped. This file is SQLite's
 * restore; Postgres's (pg_restore of a pg_dump archive) is ./restore-postgres.ts.
 *
 * Order, each step able to stop the restore before anything changed:
 *   1. the backup opens as SQLite and passes `PRAGMA integrity_check`, and is a Quire database not newer
 *      than this binary (its applied migrations ⊆ the embedded ones);
 *   2. no server holds the database (the serve lock, see lock.ts) and no other process is writing
 *      (`BEGIN EXCLUSIVE` with a short busy timeout);
 *   3. the backup is copied beside the database under a temporary name and fsynced;
 *   4. the current database is checkpointed and kept as `<db>.pre-restore-<time>` (with any WAL), stale
 *      -wal/-shm files are removed, and the copy is renamed into place; the directory is fsynced.
 * The next `quire serve` applies any migrations the backup predates. Exit 0 restored, 1 refused or failed,
 * 2 usage.
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { expectedMigrations } from "../infra/sqlite/ops.ts";
import { isPostgresUrl } from "../lib/database-url.ts";
import { fsyncPath } from "../lib/fsync.ts";
import type { Logger } from "../lib/logger.ts";
import { liveServeLock } from "./lock.ts";
import { restorePostgres } from "./restore-postgres.ts";

class Refused extends Error {
  override name = "Refused";
}

/** Step 1: the backup is sound and belongs to this application. */
export function verifyBackup(file: string): { migrations: number } {
  let db: Database;
  try {
    db = new Database(file, { readonly: true });
  } catch (err) {
    throw new Refused(`${file} cannot be opened as a SQLite database (${(err as Error).message})`);
  }
  try {
    const rows = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all();
    const result = rows.map((r) => r.integrity_check);
    if (result.length !== 1 || result[0] !== "ok")
      throw new Refused(`${file} fails integrity_check: ${result.slice(0, 5).join("; ")}`);
    const table = db
      .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
      .get();
    if (!table) throw new Refused(`${file} is not a Quire database (no migrations table)`);
    const migrations = db.query<{ n: number }, []>("SELECT count(*) AS n FROM __drizzle_migrations").get()!.n;
    const known = expectedMigrations();
    if (migrations > known)
      throw new Refused(
        `${file} comes from a newer Quire (${migrations} migrations; this binary knows ${known})`,
      );
    return { migrations };
  } catch (err) {
    if (err instanceof Refused) throw err;
    throw new Refused(`${file} is not a usable database (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

/** Step 2: nobody is using the current database. */
function assertUnused(database: string, force: boolean): void {
  const lock = liveServeLock(database);
  if (lock && !force) throw new Refused(`${database}: ${lock}`);
  if (!existsSync(database)) return;
  const db = new Database(database);
  try {
    db.run("PRAGMA busy_timeout = 200");
    db.run("BEGIN EXCLUSIVE");
    db.run("ROLLBACK");
    // Fold the WAL into the file so the kept copy is one self-contained file.
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (err) {
    throw new Refused(`${database} is in use by another process (${(err as Error).message}): stop it first`);
  } finally {
    db.close();
  }
}

export function restore(
  config: Readonly<Config>,
  log: Logger,
  file: string | undefined,
  options: { force?: boolean } = {},
): number | Promise<number> {
  if (!file) {
    process.stderr.write("quire restore: missing <file>\n  usage: quire restore <file> [--force]\n");
    return 2;
  }
  const database = config.DATABASE_URL;
  if (database === ":memory:") {
    process.stderr.write("quire restore: DATABASE_URL is :memory:, nothing to restore into\n");
    return 2;
  }
  const source = resolve(file);
  if (!existsSync(source)) {
    process.stderr.write(`quire restore: ${source} does not exist\n`);
    return 1;
  }
  if (isPostgresUrl(database)) return restorePostgres(config, log, source, { force: options.force === true });
  try {
    const { migrations } = verifyBackup(source);
    assertUnused(database, options.force === true);
    const dir = dirname(database);
    const stamp = new Date().toISOString().replaceAll(":", "-");
    const temp = join(dir, `.${basename(database)}.restore-${process.pid}`);
    copyFileSync(source, temp);
    fsyncPath(temp, "r+");
    let kept: string | undefined;
    if (existsSync(database)) {
      kept = `${database}.pre-restore-${stamp}`;
      renameSync(database, kept);
      // A WAL left by a crash belongs to the old file: keep it with it, never apply it to the backup.
      if (existsSync(`${database}-wal`)) renameSync(`${database}-wal`, `${kept}-wal`);
    }
    rmSync(`${database}-wal`, { force: true });
    rmSync(`${database}-shm`, { force: true });
    renameSync(temp, database);
    fsyncPath(dir);
    verifyBackup(database);
    log.info({ database, from: source, migrations, previous: kept }, "database restored");
    return 0;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    process.stderr.write(`quire restore: refused: ${err.message}\n`);
    return 1;
  }
}

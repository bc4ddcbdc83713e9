/**
 * `quire restore <file>` on Postgres: replace the database's content with a `pg_dump --format=custom` backup
 * (`quire backup`, or the server's `$DATA_DIR/backups/*.dump`), with every Quire server stopped.
 *
 * Order, each step able to stop the restore before anything changed:
 *   1. pg_restore reads the whole archive (every data block decompressed, as a restore would), its table of
 *      contents holds Quire's migrations table, and the backup is not newer than this binary (its
 *      migrations ≤ the embedded ones);
 *   2. no Quire process is connected to the database (pg_stat_activity, application_name "quire"), unless
 *      --force;
 *   3. the current content is kept: pg_dump into `$DATA_DIR/pre-restore-<time>.dump`;
 *   4. Quire's tables (those this binary knows) and its migrations schema are dropped in one transaction,
 *      then pg_restore recreates everything in one transaction (`--single-transaction --exit-on-error`):
 *      if it fails, the database is left empty and the message names the file from step 3.
 * Objects are restored owned by the connecting user (`--no-owner --no-privileges`). The next `quire serve`
 * applies any migrations the backup predates.
 */
import { join } from "node:path";
import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import type { Config } from "../config.ts";
import { openPool } from "../infra/postgres/client.ts";
import {
  dumpTo,
  PgToolFailed,
  PgToolMissing,
  restoreCommand,
  runPgTool,
  splitPassword,
} from "../infra/postgres/dump.ts";
import { expectedPostgresMigrations } from "../infra/postgres/ops.ts";
import * as schema from "../infra/postgres/schema.ts";
import { redactDatabaseUrl } from "../lib/database-url.ts";
import type { Logger } from "../lib/logger.ts";

class Refused extends Error {
  override name = "Refused";
}

/** pg_restore failed after the old content was dropped. */
class Failed extends Error {
  override name = "Failed";
}

/** Step 1: the archive is readable and holds a Quire database this binary can serve. */
async function verifyArchive(url: string, file: string): Promise<{ migrations: number }> {
  const manual = restoreCommand(url, file);
  let toc: string;
  try {
    toc = await runPgTool("pg_restore", ["--list", file], url, manual);
  } catch (err) {
    if (err instanceof PgToolFailed) throw new Refused(`${file} is not a pg_dump custom-format archive`);
    throw err;
  }
  if (!/TABLE DATA drizzle __drizzle_migrations\b/.test(toc))
    throw new Refused(`${file} is not a Quire database (no migrations table)`);
  try {
    // The whole archive as a script, thrown away: a damaged block fails here, before anything is dropped.
    await runPgTool("pg_restore", ["--file=/dev/null", file], url, manual);
  } catch (err) {
    if (err instanceof PgToolFailed) throw new Refused(`${file} is damaged (${err.message})`);
    throw err;
  }
  const data = await runPgTool(
    "pg_restore",
    ["--data-only", "--schema=drizzle", "--table=__drizzle_migrations", "--file=-", file],
    url,
    manual,
  );
  const rows = /^COPY drizzle\.__drizzle_migrations [^\n]*\n([\s\S]*?)^\\\.$/m.exec(data)?.[1] ?? "";
  const migrations = rows.split("\n").filter((l) => l.trim() !== "").length;
  const known = expectedPostgresMigrations();
  if (migrations > known)
    throw new Refused(
      `${file} comes from a newer Quire (${migrations} migrations; this binary knows ${known})`,
    );
  return { migrations };
}

/** Quire's tables as this binary's schema names them. */
const quireTables = () =>
  (Object.values(schema) as unknown[])
    .filter((value): value is PgTable => is(value, PgTable))
    .map((table) => getTableConfig(table).name);

export async function restorePostgres(
  config: Readonly<Config>,
  log: Logger,
  source: string,
  options: { force: boolean },
): Promise<number> {
  const url = config.DATABASE_URL;
  const database = redactDatabaseUrl(url);
  const pool = openPool({ url, poolSize: 1, applicationName: "quire-restore" });
  try {
    const { migrations } = await verifyArchive(url, source);
    const [busy] = await pool`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and application_name = 'quire'`;
    if (Number(busy?.n) > 0 && !options.force)
      throw new Refused(
        `a Quire server is using ${database} (${busy?.n} connections): stop it first (or --force if none runs)`,
      );
    const [present] = await pool`select to_regclass('public.users') is not null as yes`;
    let kept: string | undefined;
    if (present?.yes) {
      const stamp = new Date().toISOString().replaceAll(":", "-");
      kept = join(config.DATA_DIR, `pre-restore-${stamp}.dump`);
      await dumpTo(url, kept);
    }
    const tables = quireTables()
      .map((name) => `"public"."${name}"`)
      .join(", ");
    await pool.begin(async (tx) => {
      await tx.unsafe(`drop table if exists ${tables} cascade`);
      await tx.unsafe("drop schema if exists drizzle cascade");
    });
    try {
      await runPgTool(
        "pg_restore",
        [
          "--single-transaction",
          "--exit-on-error",
          "--no-owner",
          "--no-privileges",
          `--dbname=${splitPassword(url).url}`,
          source,
        ],
        url,
        restoreCommand(url, source),
      );
    } catch (err) {
      if (!(err instanceof PgToolFailed)) throw err;
      const back = kept ? `; the previous data is in ${kept} (quire restore ${kept})` : "";
      throw new Failed(`${err.message}: the database is left empty${back}`);
    }
    log.info({ database, from: source, migrations, previous: kept }, "database restored");
    return 0;
  } catch (err) {
    if (err instanceof Refused || err instanceof PgToolFailed) {
      process.stderr.write(`quire restore: refused: ${err.message}\n`);
      return 1;
    }
    if (err instanceof Failed) {
      process.stderr.write(`quire restore: failed: ${err.message}\n`);
      return 1;
    }
    if (err instanceof PgToolMissing) {
      process.stderr.write(`quire restore: ${err.fields.backup![0]}\n`);
      return 1;
    }
    throw err;
  } finally {
    await pool.close();
  }
}

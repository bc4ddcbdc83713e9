/**
 * `quire migrate`: apply the embedded migrations and exit. `serve` migrates on start as well; this is for
 * deploys that want the schema change as a separate, observable step (or a backup taken right before it).
 * On Postgres the migrations run under an advisory lock (src/infra/postgres/migrate.ts), so it is safe while
 * other nodes start.
 */

import { drizzle } from "drizzle-orm/bun-sqlite";
import type { Config } from "../config.ts";
import { openPool } from "../infra/postgres/client.ts";
import { applyMigrations as applyPostgresMigrations } from "../infra/postgres/migrate.ts";
import { openConnection } from "../infra/sqlite/client.ts";
import { applyMigrations } from "../infra/sqlite/migrate.ts";
import { isPostgresUrl, redactDatabaseUrl } from "../lib/database-url.ts";
import type { Logger } from "../lib/logger.ts";

export async function migrate(config: Readonly<Config>, log: Logger): Promise<number> {
  const database = redactDatabaseUrl(config.DATABASE_URL);
  if (isPostgresUrl(config.DATABASE_URL)) {
    const pool = openPool({ url: config.DATABASE_URL, poolSize: 1 });
    try {
      const { applied } = await applyPostgresMigrations(pool);
      log.info({ database, applied }, "migrations applied");
      return 0;
    } finally {
      await pool.close();
    }
  }
  const sqlite = openConnection(config.DATABASE_URL);
  try {
    applyMigrations(drizzle({ client: sqlite }));
    log.info({ database }, "migrations applied");
    return 0;
  } finally {
    sqlite.close();
  }
}

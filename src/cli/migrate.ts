/**
 * `quire migrate`: apply the embedded migrations and exit. `serve` migrates on start as well; this is for
 * deploys that want the schema change as a separate, observable step (or a backup taken right before it).
 */
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { applyMigrations } from "../db/migrate.ts";
import type { Logger } from "../lib/logger.ts";

export function migrate(config: Readonly<Config>, log: Logger): number {
  const { db, sqlite } = openDatabase(config.DATABASE_URL);
  try {
    applyMigrations(db);
    log.info({ database: config.DATABASE_URL }, "migrations applied");
    return 0;
  } finally {
    sqlite.close();
  }
}

/**
 * `quire migrate`: apply the embedded migrations and exit. `serve` migrates on start as well; this is for
 * deploys that want the schema change as a separate, observable step (or a backup taken right before it).
 */

import { drizzle } from "drizzle-orm/bun-sqlite";
import type { Config } from "../config.ts";
import { openConnection } from "../infra/sqlite/client.ts";
import { applyMigrations } from "../infra/sqlite/migrate.ts";
import type { Logger } from "../lib/logger.ts";

export function migrate(config: Readonly<Config>, log: Logger): number {
  const sqlite = openConnection(config.DATABASE_URL);
  try {
    applyMigrations(drizzle({ client: sqlite }));
    log.info({ database: config.DATABASE_URL }, "migrations applied");
    return 0;
  } finally {
    sqlite.close();
  }
}

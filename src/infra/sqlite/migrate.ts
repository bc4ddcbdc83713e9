/**
 * Applies drizzle-kit's SQLite migrations (drizzle/sqlite) at start-up. The compiled binary carries drizzle/
 * as an embedded asset (`bun build --asset=drizzle`, readable under /$bunfs/root); from source the folder
 * sits at the repo root. One process writes an SQLite file at a time (the lock of src/cli/lock.ts, and
 * SQLite's own write lock), so no advisory lock is needed here.
 */
import { join } from "node:path";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import type { SqliteDb } from "./client.ts";

export const migrationsFolder = import.meta.dir.startsWith("/$bunfs")
  ? "/$bunfs/root/drizzle/sqlite"
  : join(import.meta.dir, "..", "..", "..", "drizzle", "sqlite");

export function applyMigrations(db: SqliteDb): void {
  migrate(db, { migrationsFolder });
}

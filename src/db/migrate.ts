/**
 * Applies drizzle-kit's migrations at start-up. The compiled binary carries drizzle/ as an embedded asset
 * (`bun build --asset=drizzle`, readable under /$bunfs/root); from source the folder sits at the repo root.
 */
import { join } from "node:path";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import type { Db } from "./client.ts";

export const migrationsFolder = import.meta.dir.startsWith("/$bunfs")
  ? "/$bunfs/root/drizzle"
  : join(import.meta.dir, "..", "..", "drizzle");

export function applyMigrations(db: Db): void {
  migrate(db, { migrationsFolder });
}

/** A migrated SQLite file for a bench (the server's pragmas, its migrations): the connection and Drizzle. */
import { drizzle } from "drizzle-orm/bun-sqlite";
import { openConnection } from "../../src/infra/sqlite/client.ts";
import { applyMigrations } from "../../src/infra/sqlite/migrate.ts";
import * as schema from "../../src/infra/sqlite/schema.ts";

export function openMigrated(file: string) {
  const sqlite = openConnection(file);
  const db = drizzle({ client: sqlite, schema });
  applyMigrations(db);
  return { db, sqlite };
}

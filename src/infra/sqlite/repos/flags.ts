/** Feature flags on SQLite: one row per flag changed at run time. */
import { sql } from "drizzle-orm";
import type { FlagsRepo } from "../../../store/operations.ts";
import type { SqliteDb } from "../client.ts";
import { flags } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

export function sqliteFlags(db: SqliteDb): FlagsRepo {
  const q = lazy(() => ({
    all: db.select().from(flags).orderBy(flags.name).prepare(),
    upsert: db
      .insert(flags)
      .values({
        name: ph("name"),
        enabled: ph("enabled"),
        percentage: ph("percentage"),
        updatedAt: ph("updatedAt"),
      })
      .onConflictDoUpdate({
        target: flags.name,
        set: {
          enabled: sql`excluded.enabled`,
          percentage: sql`excluded.percentage`,
          updatedAt: sql`excluded.updated_at`,
        },
      })
      .prepare(),
  }));
  return {
    async all() {
      return q().all.all();
    },
    async upsert(flag) {
      q().upsert.run({ ...flag, enabled: flag.enabled ? 1 : 0 });
    },
  };
}

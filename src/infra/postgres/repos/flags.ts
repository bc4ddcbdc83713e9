/** Feature flags on Postgres. */
import { sql } from "drizzle-orm";
import type { FlagsRepo } from "../../../store/operations.ts";
import { flags } from "../schema.ts";
import type { PgDb } from "./shared.ts";

export function pgFlags(db: PgDb): FlagsRepo {
  return {
    async all() {
      return db.select().from(flags).orderBy(sql`${flags.name} COLLATE "C"`);
    },
    async upsert(flag) {
      await db
        .insert(flags)
        .values(flag)
        .onConflictDoUpdate({
          target: flags.name,
          set: {
            enabled: sql`excluded.enabled`,
            percentage: sql`excluded.percentage`,
            updatedAt: sql`excluded.updated_at`,
          },
        });
    },
  };
}

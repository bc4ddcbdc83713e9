/**
 * Tags in use on Postgres: tags left behind by deleted articles are hidden. Sorted with COLLATE "C" (code
 * point order, as SQLite's BINARY collation), whatever the database's locale.
 */
import { sql } from "drizzle-orm";
import type { TagsRepo } from "../../../store/content.ts";
import { articleTags, tags } from "../schema.ts";
import { lazy, type PgDb } from "./shared.ts";

export function pgTags(db: PgDb): TagsRepo {
  const q = lazy(() => ({
    inUse: db
      .select({ name: tags.name })
      .from(tags)
      .where(sql`exists(select 1 from ${articleTags} where ${articleTags.tagId} = ${tags.id})`)
      .orderBy(sql`${tags.name} COLLATE "C"`)
      .prepare("tags_in_use"),
  }));
  return {
    async inUse() {
      const rows = await q().inUse.execute();
      return rows.map((r) => r.name);
    },
  };
}

/** Tags in use on SQLite: tags left behind by deleted articles are hidden. */
import { asc, sql } from "drizzle-orm";
import type { TagsRepo } from "../../../store/content.ts";
import type { SqliteDb } from "../client.ts";
import { articleTags, tags } from "../schema.ts";
import { lazy } from "./lazy.ts";

export function sqliteTags(db: SqliteDb): TagsRepo {
  const q = lazy(() => ({
    inUse: db
      .select({ name: tags.name })
      .from(tags)
      .where(sql`exists(select 1 from ${articleTags} where ${articleTags.tagId} = ${tags.id})`)
      .orderBy(asc(tags.name))
      .prepare(),
  }));
  return {
    async inUse() {
      return q()
        .inUse.all()
        .map((r) => r.name);
    },
  };
}

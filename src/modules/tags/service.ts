/**
 * Tags in use by at least one article, alphabetically (tags left behind by deleted articles are hidden).
 * Cached as one serialized body; article writes that can change the set drop it.
 */
import { asc, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { articleTags, tags } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";
import { CachedJson } from "../cache/json.ts";

const queries = perOwner((db: AppContext["db"]) => ({
  inUse: db
    .select({ name: tags.name })
    .from(tags)
    .where(sql`exists(select 1 from ${articleTags} where ${articleTags.tagId} = ${tags.id})`)
    .orderBy(asc(tags.name))
    .prepare(),
}));

export function listTags(ctx: AppContext): CachedJson {
  return ctx.caches.tags.load("all", () =>
    CachedJson.of({
      tags: queries(ctx.db)
        .inUse.all()
        .map((r) => r.name),
    }),
  )!;
}

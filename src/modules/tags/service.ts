/**
 * Tags in use by at least one article, sorted (tags left behind by deleted articles are hidden). Cached as
 * one serialized body; article writes that can change the set drop it.
 */
import type { AppContext } from "../../context.ts";
import { CachedJson } from "../../lib/cached-json.ts";

export async function listTags(ctx: AppContext): Promise<CachedJson> {
  const body = await ctx.caches.tags.load("all", async () =>
    CachedJson.of({ tags: await ctx.store.read.tags.inUse() }),
  );
  return body!;
}

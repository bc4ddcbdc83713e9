/**
 * Full-text search for `GET /api/articles?q=`: a page of ids ranked by bm25, then the same rows, cache
 * entries and reader overlay as the plain lists (src/modules/articles/reads.ts).
 */
import { SQLiteError } from "bun:sqlite";
import type { AppContext } from "../../context.ts";
import { itemsByIds, type PageData } from "../articles/reads.ts";
import { searchQueries } from "./queries.ts";

export interface SearchFilters {
  tag?: string;
  /** User ids, already resolved from usernames. */
  author?: number;
  favorited?: number;
}

/**
 * One page of matches for `match` (an expression built by toFtsQuery, never raw reader text), with the
 * total number of matches.
 */
export function searchPage(
  ctx: AppContext,
  match: string,
  filters: SearchFilters,
  page: { limit: number; offset: number },
): PageData {
  const q = searchQueries(ctx.db)({
    tag: filters.tag !== undefined,
    author: filters.author !== undefined,
    favorited: filters.favorited !== undefined,
  });
  const params = { q: match, ...filters };
  try {
    const ids = q.ids.all({ ...params, ...page }).map((r) => r.id);
    return { ...itemsByIds(ctx, ids), count: q.count.get(params)?.n ?? 0 };
  } catch (err) {
    // toFtsQuery only builds quoted words, so this is a bug, not the reader's fault: log it, find nothing.
    if (!(err instanceof SQLiteError && err.message.startsWith("fts5"))) throw err;
    ctx.log.error({ err, match }, "full-text query rejected");
    return { items: [], ids: [], authorIds: [], count: 0 };
  }
}

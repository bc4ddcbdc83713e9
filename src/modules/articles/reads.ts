/**
 * The read side of articles, through the content caches (src/modules/cache). Cached entries are the
 * anonymous representation; a signed-in reader's `favorited`/`following` flags are read fresh (one indexed
 * probe per article, or two statements per page) and overlaid on a copy. When the reader's flags are all
 * false their answer is byte for byte the anonymous one, so the cached body (and its ETag) is sent as is.
 */
import type { AppContext } from "../../context.ts";
import type { ArticleEntry, ListEntry, ListItemView } from "../cache/index.ts";
import { CachedJson } from "../cache/json.ts";
import { articleQueries, type ListShape, toArticle, toListItem } from "./queries.ts";

export interface Reader {
  id: number;
}

export type ArticleBody = { article: ReturnType<typeof toArticle> };
export type ListBody = { articles: ListItemView[]; articlesCount: number };

/** A page before caching: items in order, with their article and author ids. */
export interface PageData {
  items: ListItemView[];
  ids: number[];
  authorIds: number[];
  count: number;
}

export const emptyList = (): ListBody => ({ articles: [], articlesCount: 0 });

/** A copy of an article (or list item) with one reader's flags. */
export function withFlags<T extends ListItemView>(item: T, favorited: boolean, following: boolean): T {
  return { ...item, favorited, author: { ...item.author, following } };
}

/** The cached anonymous article, or undefined if there is no such slug (misses are not cached). */
export function articleEntry(ctx: AppContext, slug: string): ArticleEntry | undefined {
  return ctx.caches.articles.load(slug, () => {
    const row = articleQueries(ctx.db).bySlug.get({ slug });
    if (!row) return undefined;
    const article = toArticle(row);
    return { id: row.id, authorId: row.authorId, article, body: CachedJson.of({ article }) };
  });
}

function flagsOf(ctx: AppContext, entry: ArticleEntry, reader: Reader) {
  const flags = articleQueries(ctx.db).viewerFlags.get({
    viewer: reader.id,
    article: entry.id,
    author: entry.authorId,
  });
  return { favorited: flags?.favorited === 1, following: flags?.following === 1 };
}

/** The article as `reader` sees it: the shared cached body when their flags are false. */
export function articleReply(
  ctx: AppContext,
  entry: ArticleEntry,
  reader?: Reader,
): CachedJson | ArticleBody {
  if (!reader) return entry.body;
  const { favorited, following } = flagsOf(ctx, entry, reader);
  if (!favorited && !following) return entry.body;
  return { article: withFlags(entry.article, favorited, following) };
}

/** The article as a plain object, for write responses (always a fresh copy). */
export function articleObject(ctx: AppContext, entry: ArticleEntry, reader: Reader): ArticleBody {
  const { favorited, following } = flagsOf(ctx, entry, reader);
  return { article: withFlags(entry.article, favorited, following) };
}

/** The items of `ids`, in that order (one statement, by primary key). */
export function itemsByIds(ctx: AppContext, ids: number[]): Omit<PageData, "count"> {
  if (ids.length === 0) return { items: [], ids: [], authorIds: [] };
  const rows = articleQueries(ctx.db).rowsByIds.all({ ids: JSON.stringify(ids) });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const page: Omit<PageData, "count"> = { items: [], ids: [], authorIds: [] };
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) continue;
    page.items.push(toListItem(row));
    page.ids.push(row.id);
    page.authorIds.push(row.authorId);
  }
  return page;
}

/**
 * One page of a filter shape. The total comes from `counts` under `countKey` when the shape has one
 * (unfiltered and single filters), and is counted afresh otherwise.
 */
export function readPage(
  ctx: AppContext,
  shape: ListShape,
  params: Record<string, unknown>,
  countKey: string | undefined,
): PageData {
  const q = articleQueries(ctx.db).list(shape);
  const ids = q.ids.all(params).map((r) => r.id as number);
  const countNow = () => q.count.get(params)?.n ?? 0;
  const count = countKey === undefined ? countNow() : ctx.caches.counts.load(countKey, countNow)!;
  return { ...itemsByIds(ctx, ids), count };
}

/** A page made cacheable: its anonymous body serialized once. */
export function listEntry(page: PageData): ListEntry {
  return { ...page, body: CachedJson.of({ articles: page.items, articlesCount: page.count }) };
}

/** One reader's flags on a page: the articles they favourited and the authors they follow. */
function pageFlags(ctx: AppContext, page: PageData, reader: Reader) {
  const q = articleQueries(ctx.db);
  const favorited = new Set(
    q.favoritedAmong.all({ viewer: reader.id, ids: JSON.stringify(page.ids) }).map((r) => r.id),
  );
  const authors = JSON.stringify([...new Set(page.authorIds)]);
  const following = new Set(q.followingAmong.all({ viewer: reader.id, ids: authors }).map((r) => r.id));
  return { favorited, following };
}

/** A cached page as `reader` sees it: the shared body when none of its flags are set for them. */
export function listReply(ctx: AppContext, entry: ListEntry, reader?: Reader): CachedJson | ListBody {
  if (!reader || entry.ids.length === 0) return entry.body;
  const flags = pageFlags(ctx, entry, reader);
  if (flags.favorited.size === 0 && flags.following.size === 0) return entry.body;
  const articles = entry.items.map((item, i) =>
    withFlags(item, flags.favorited.has(entry.ids[i]!), flags.following.has(entry.authorIds[i]!)),
  );
  return { articles, articlesCount: entry.count };
}

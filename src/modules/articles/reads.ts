/**
 * The read side of articles, through the content caches (src/modules/cache). Cached entries are the
 * anonymous representation; a signed-in reader's `favorited`/`following` flags are read fresh (one indexed
 * probe per article, or two statements per page) and overlaid on a copy. When the reader's flags are all
 * false their answer is byte for byte the anonymous one, so the cached body (and its ETag) is sent as is.
 */
import type { AppContext } from "../../context.ts";
import { CachedJson } from "../../lib/cached-json.ts";
import type { ArticleDetailRow, ArticleRow, ListFilter, Page } from "../../store/content.ts";
import type { ArticleEntry, ListEntry, ListItemView } from "../cache/index.ts";

export interface Reader {
  id: number;
}

const isoTime = (ms: number) => new Date(ms).toISOString();

/**
 * A row as an article in a list, as anyone sees it (`favorited` and `author.following` false: the reader's
 * flags are overlaid later). No `body`: the property is absent, not null.
 */
export function toListItem(row: ArticleRow) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: row.tagList,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    favorited: false,
    favoritesCount: row.favoritesCount,
    author: { username: row.authorUsername, bio: row.authorBio, image: row.authorImage, following: false },
  };
}

/** A row as the single-article representation, with `body`. */
export function toArticle(row: ArticleDetailRow) {
  return { ...toListItem(row), body: row.body };
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

/**
 * The few facts a write on an article needs (its id and author), from the articles cache when the article
 * is there (a popular article is commented and favourited most), else one indexed read. A cached entry is
 * committed state, as the read would be: every write that changes an article drops its entry first.
 */
export async function articleHead(ctx: AppContext, slug: string) {
  const cached = ctx.caches.articles.peek(slug);
  if (cached) return { id: cached.id, slug, authorId: cached.authorId };
  return ctx.store.read.articles.headBySlug(slug);
}

/** The cached anonymous article, or undefined if there is no such slug (misses are not cached). */
export function articleEntry(ctx: AppContext, slug: string) {
  return ctx.caches.articles.load(slug, async () => {
    const row = await ctx.store.read.articles.bySlug(slug);
    if (!row) return undefined;
    const article = toArticle(row);
    return { id: row.id, authorId: row.authorId, article, body: CachedJson.of({ article }) };
  });
}

async function flagsOf(ctx: AppContext, entry: ArticleEntry, reader: Reader) {
  const flags = await ctx.store.read.articles.viewerFlags(reader.id, entry.id, entry.authorId);
  return { favorited: flags?.favorited === true, following: flags?.following === true };
}

/** The article as `reader` sees it: the shared cached body when their flags are false. */
export async function articleReply(
  ctx: AppContext,
  entry: ArticleEntry,
  reader?: Reader,
): Promise<CachedJson | ArticleBody> {
  if (!reader) return entry.body;
  const { favorited, following } = await flagsOf(ctx, entry, reader);
  if (!favorited && !following) return entry.body;
  return { article: withFlags(entry.article, favorited, following) };
}

/** The article as a plain object, for write responses (always a fresh copy). */
export async function articleObject(
  ctx: AppContext,
  entry: ArticleEntry,
  reader: Reader,
): Promise<ArticleBody> {
  const { favorited, following } = await flagsOf(ctx, entry, reader);
  return { article: withFlags(entry.article, favorited, following) };
}

/** The items of `ids`, in that order (one statement, by primary key). */
export async function itemsByIds(ctx: AppContext, ids: number[]): Promise<Omit<PageData, "count">> {
  if (ids.length === 0) return { items: [], ids: [], authorIds: [] };
  const rows = await ctx.store.read.articles.byIds(ids);
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
 * One page of a filter. The total comes from `counts` under `countKey` when the filter has one (unfiltered
 * and single filters), and is counted afresh otherwise.
 */
export async function readPage(
  ctx: AppContext,
  filter: ListFilter,
  page: Page,
  countKey: string | undefined,
): Promise<PageData> {
  const articles = ctx.store.read.articles;
  const countNow = () => articles.count(filter);
  const [ids, count] = await Promise.all([
    articles.pageIds(filter, page),
    countKey === undefined ? countNow() : ctx.caches.counts.load(countKey, countNow),
  ]);
  return { ...(await itemsByIds(ctx, ids)), count: count ?? 0 };
}

/** A page made cacheable: its anonymous body serialized once. */
export function listEntry(page: PageData): ListEntry {
  return { ...page, body: CachedJson.of({ articles: page.items, articlesCount: page.count }) };
}

/** One reader's flags on a page: the articles they favourited and the authors they follow. */
async function pageFlags(ctx: AppContext, page: PageData, reader: Reader) {
  const [favorited, following] = await Promise.all([
    ctx.store.read.articles.favoritedAmong(reader.id, page.ids),
    ctx.store.read.profiles.followingAmong(reader.id, [...new Set(page.authorIds)]),
  ]);
  return { favorited: new Set(favorited), following: new Set(following) };
}

/** A cached page as `reader` sees it: the shared body when none of its flags are set for them. */
export async function listReply(
  ctx: AppContext,
  entry: ListEntry,
  reader?: Reader,
): Promise<CachedJson | ListBody> {
  if (!reader || entry.ids.length === 0) return entry.body;
  const flags = await pageFlags(ctx, entry, reader);
  if (flags.favorited.size === 0 && flags.following.size === 0) return entry.body;
  const articles = entry.items.map((item, i) =>
    withFlags(item, flags.favorited.has(entry.ids[i]!), flags.following.has(entry.authorIds[i]!)),
  );
  return { articles, articlesCount: entry.count };
}

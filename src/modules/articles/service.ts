/**
 * Articles: create, read, list, feed, update, delete, favorite. Write paths run in one unit of work each;
 * uniqueness (slugs, favorites) is decided by the database, never by a check-then-insert.
 */
import type { AppContext } from "../../context.ts";
import { forbidden, notFound } from "../../errors.ts";
import { compareCodePoints } from "../../lib/collation.ts";
import { pageOf } from "../../lib/paging.ts";
import { searchTerms } from "../../lib/search-terms.ts";
import { slugify, slugSuffix } from "../../lib/slug.ts";
import { assertMayWrite, can, type Role } from "../../policy.ts";
import type { ArticleHead, ListFilter } from "../../store/content.ts";
import { MissingReference, violatedConstraint } from "../../store/errors.ts";
import type { WriteTx } from "../../store/store.ts";
import { countKeys, feedKey } from "../cache/index.ts";
import { userIdOf } from "../profiles/service.ts";
import { missingArticle } from "./former-slugs.ts";

export { missingArticle, type Redirect } from "./former-slugs.ts";
export { articleHead, toArticle, toListItem } from "./reads.ts";

import type { CreateArticleInput, ListFilters, UpdateArticleInput } from "./model.ts";
import {
  articleEntry,
  articleHead,
  articleObject,
  articleReply,
  emptyList,
  itemsByIds,
  listEntry,
  listReply,
  type Reader,
  readPage,
} from "./reads.ts";

/** Who is writing: their id, role and whether their address is verified (an authenticated viewer). */
export interface ArticleViewer {
  id: number;
  role: Role;
  /** REQUIRE_VERIFIED_EMAIL_TO_WRITE (src/policy.ts). */
  emailVerified: boolean;
}

/**
 * Trimmed, de-duplicated and sorted: a tagList is always in code point order (what the RealWorld Postman
 * suite expects, and what the reads give), never in the author's order.
 */
function cleanTags(tagList: readonly string[]): string[] {
  return [...new Set(tagList.map((tag) => tag.trim()).filter(Boolean))].sort(compareCodePoints);
}

/** Run `write(slug)` with the title's slug, then with random suffixes while the slug is taken. */
async function withUniqueSlug<T>(title: string, write: (slug: string) => Promise<T>): Promise<T> {
  const base = slugify(title);
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${slugSuffix()}`;
    try {
      return await write(slug);
    } catch (err) {
      if (violatedConstraint(err) !== "articles_slug_uq" || attempt >= 8) throw err;
    }
  }
}

/** Whether `slug` is already the title's slug (possibly with a uniqueness suffix). */
function slugFits(slug: string, title: string): boolean {
  const base = slugify(title);
  return slug === base || (slug.length === base.length + 7 && slug.startsWith(`${base}-`));
}

/**
 * GET /api/articles/:slug: the cached body as is, unless the reader's flags differ from the anonymous ones.
 * A former slug answers 301 to the current one (./former-slugs.ts).
 */
export async function getArticle(ctx: AppContext, slug: string, viewer?: Reader) {
  const entry = await articleEntry(ctx, slug);
  if (!entry) throw await missingArticle(ctx, slug);
  return articleReply(ctx, entry, viewer);
}

/** The article after a write, as the writer sees it (a plain object: write responses are not cached). */
async function articleAfterWrite(ctx: AppContext, slug: string, viewer: Reader) {
  const entry = await articleEntry(ctx, slug);
  if (!entry) throw notFound("article");
  return articleObject(ctx, entry, viewer);
}

interface PageQuery {
  limit?: string;
  offset?: string;
}

/**
 * GET /api/articles, with or without `q`. Pages are cached by their normalised query (usernames resolved to
 * ids, search text to its terms); unknown users and wordless searches answer an empty list.
 */
export async function listArticles(ctx: AppContext, filters: ListFilters, viewer?: Reader) {
  const page = pageOf(filters);
  // No tag or username holds a NUL (both are validated), and Postgres refuses one in a query: none match.
  if ([filters.tag, filters.author, filters.favorited].some((f) => f?.includes("\0"))) return emptyList();
  const tag = filters.tag || undefined;
  const [author, favorited] = await Promise.all([
    filters.author ? userIdOf(ctx, filters.author) : undefined,
    filters.favorited ? userIdOf(ctx, filters.favorited) : undefined,
  ]);
  if ((filters.author && author === undefined) || (filters.favorited && favorited === undefined))
    return emptyList();
  const text = filters.q?.trim();
  if (text) {
    const terms = searchTerms(text);
    if (terms.length === 0) return emptyList();
    const key = JSON.stringify(["q", terms, tag, author, favorited, page.limit, page.offset]);
    const entry = await ctx.caches.lists.load(key, async () => {
      const found = await ctx.store.read.search.page(terms, { tag, author, favorited }, page);
      return listEntry({ ...(await itemsByIds(ctx, found.ids)), count: found.count });
    });
    return listReply(ctx, entry!, viewer);
  }
  const filter: ListFilter = { tag, author, favorited };
  const key = JSON.stringify(["l", tag, author, favorited, page.limit, page.offset]);
  const entry = await ctx.caches.lists.load(key, async () =>
    listEntry(await readPage(ctx, filter, page, countKeyOf(tag, author, favorited))),
  );
  return listReply(ctx, entry!, viewer);
}

/** The cached total's key for a filter, if it has one (no filter or exactly one). */
function countKeyOf(tag?: string, author?: number, favorited?: number): string | undefined {
  const set = +(tag !== undefined) + +(author !== undefined) + +(favorited !== undefined);
  if (set === 0) return countKeys.all;
  if (set > 1) return undefined;
  if (tag !== undefined) return countKeys.tag(tag);
  return author !== undefined ? countKeys.author(author) : countKeys.favorited(favorited!);
}

/**
 * GET /api/articles/feed: cached per reader (never served to anyone else), with the flags overlaid like
 * any list, since favourites change more often than a feed's articles.
 */
export async function feedArticles(ctx: AppContext, viewer: Reader, query: PageQuery) {
  const page = pageOf(query);
  const entry = await ctx.caches.feeds.load(feedKey(viewer.id, page), async () =>
    listEntry(await readPage(ctx, { feed: viewer.id }, page, undefined)),
  );
  return listReply(ctx, entry!, viewer);
}

export async function createArticle(ctx: AppContext, viewer: ArticleViewer, input: CreateArticleInput) {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  if (!can(viewer.role, "article:write")) throw forbidden("article");
  const tagList = cleanTags(input.tagList ?? []);
  const now = ctx.clock.now();
  const slug = await withUniqueSlug(input.title, (slug) =>
    ctx.store.write(async (tx) => {
      const id = await tx.articles.insert({
        slug,
        title: input.title,
        description: input.description,
        body: input.body,
        authorId: viewer.id,
        now,
      });
      await tx.articles.takeSlug(slug);
      await tx.articles.setTags(id, tagList);
      await tx.articles.reindex(id);
      await tx.emit({ type: "article.created", articleId: id, slug, authorId: viewer.id, tags: tagList });
      return slug;
    }),
  );
  return articleAfterWrite(ctx, slug, viewer);
}

/**
 * The article a write names: 404 if the slug is unknown (308 to the current one if it is a former slug), then
 * 403 unless the viewer wrote it or may moderate.
 */
async function findOwned(ctx: AppContext, viewer: ArticleViewer, slug: string): Promise<ArticleHead> {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const head = await ctx.store.read.articles.headBySlug(slug);
  if (!head) throw await missingArticle(ctx, slug, "", 308);
  const own = head.authorId === viewer.id && can(viewer.role, "article:write");
  if (!own && !can(viewer.role, "article:moderate")) throw forbidden("article");
  return head;
}

export async function updateArticle(
  ctx: AppContext,
  viewer: ArticleViewer,
  slug: string,
  input: UpdateArticleInput,
) {
  const head = await findOwned(ctx, viewer, slug);
  // updatedAt always moves forward, even within the same millisecond as the last write.
  const updatedAt = Math.max(ctx.clock.now(), head.updatedAt + 1);
  const write = (newSlug: string) =>
    ctx.store.write(async (tx) => {
      await tx.articles.update(head.id, {
        slug: newSlug,
        updatedAt,
        ...(input.title !== undefined && { title: input.title }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.body !== undefined && { body: input.body }),
      });
      if (newSlug !== head.slug) {
        await tx.articles.takeSlug(newSlug);
        await tx.articles.rememberFormerSlug(head.id, head.slug, updatedAt);
      }
      if (input.tagList !== undefined) await tx.articles.setTags(head.id, cleanTags(input.tagList));
      await tx.articles.reindex(head.id);
      await tx.emit({
        type: "article.updated",
        articleId: head.id,
        slug: newSlug,
        previousSlug: head.slug,
        authorId: head.authorId,
        tags: await tx.articles.tagNames(head.id),
      });
      return newSlug;
    });
  // A new title gets a new slug (the RealWorld spec); the old one redirects to it from now on.
  const keepSlug = input.title === undefined || slugFits(head.slug, input.title);
  const finalSlug = keepSlug ? await write(head.slug) : await withUniqueSlug(input.title!, write);
  return articleAfterWrite(ctx, finalSlug, viewer);
}

export async function deleteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string): Promise<void> {
  const head = await findOwned(ctx, viewer, slug);
  await ctx.store.write((tx) => removeArticle(tx, head));
}

/**
 * Delete an article found by the caller (its author, or a moderator through the admin API), in the
 * caller's unit of work.
 */
export async function removeArticle(tx: WriteTx, head: Pick<ArticleHead, "id" | "slug" | "authorId">) {
  // Emitted first so that in-transaction handlers can still read the article.
  await tx.emit({
    type: "article.deleted",
    articleId: head.id,
    slug: head.slug,
    authorId: head.authorId,
    tags: await tx.articles.tagNames(head.id),
  });
  // Comments, favorites, tag links and the search entry go with it.
  await tx.articles.delete(head.id);
}

export function favoriteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  return setFavorite(ctx, viewer, slug, true);
}

export function unfavoriteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  return setFavorite(ctx, viewer, slug, false);
}

async function setFavorite(ctx: AppContext, viewer: ArticleViewer, slug: string, on: boolean) {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const head = await articleHead(ctx, slug);
  if (!head) throw await missingArticle(ctx, slug, "/favorite", 308);
  if (!can(viewer.role, "favorite:write")) throw forbidden("article");
  await ctx.store
    .write(async (tx) => {
      const changed = on
        ? await tx.articles.favorite(viewer.id, head.id)
        : await tx.articles.unfavorite(viewer.id, head.id);
      // Counted only when a row really changed: 40 concurrent favorites by one user count once.
      if (!changed) return;
      const favoritesCount = await tx.articles.bumpFavorites(head.id, on ? 1 : -1);
      await tx.emit({
        type: on ? "article.favorited" : "article.unfavorited",
        articleId: head.id,
        slug: head.slug,
        userId: viewer.id,
        favoritesCount,
      });
    })
    .catch((err) => {
      // The article was deleted between the lookup and the write.
      throw err instanceof MissingReference ? notFound("article") : err;
    });
  return articleAfterWrite(ctx, head.slug, viewer);
}

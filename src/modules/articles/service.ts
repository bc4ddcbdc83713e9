/**
 * Articles: create, read, list, feed, update, delete, favorite. Write paths run in one transaction each;
 * uniqueness (slugs, favorites) is decided by the database, never by a check-then-insert.
 */
import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { articles, type Role } from "../../db/schema.ts";
import { forbidden, notFound, uniqueViolation } from "../../errors.ts";
import { compareCodePoints } from "../../lib/collation.ts";
import { slugify, slugSuffix } from "../../lib/slug.ts";
import { can } from "../../policy.ts";
import { countKeys, feedKey } from "../cache/index.ts";
import { userIdOf } from "../profiles/service.ts";
import { toFtsQuery } from "../search/fts-query.ts";
import { indexArticle } from "../search/indexing.ts";
import { searchPage } from "../search/service.ts";
import { pageOf } from "../shared/model.ts";
import { missingArticle, renameSlug, takeSlug } from "./former-slugs.ts";
import type { CreateArticleInput, ListFilters, UpdateArticleInput } from "./model.ts";
import { articleQueries, articleWrites, type ListShape } from "./queries.ts";
import {
  articleEntry,
  articleObject,
  articleReply,
  emptyList,
  listEntry,
  listReply,
  type Reader,
  readPage,
} from "./reads.ts";

export interface ArticleViewer {
  id: number;
  role: Role;
}

function tagsOf(ctx: AppContext, articleId: number): string[] {
  return articleWrites(ctx.db)
    .tagNames.all({ article: articleId })
    .map((r) => r.name);
}

/**
 * Trimmed, de-duplicated and sorted: a tagList is always in code point order (what the RealWorld Postman
 * suite expects, and what the reads give, src/modules/articles/queries.ts), never in the author's order.
 */
function cleanTags(tagList: readonly string[]): string[] {
  return [...new Set(tagList.map((tag) => tag.trim()).filter(Boolean))].sort(compareCodePoints);
}

/** Replace the article's tags, in the caller's transaction (the statements run on its connection). */
function setTags(ctx: AppContext, articleId: number, tagList: string[]): void {
  const w = articleWrites(ctx.db);
  w.unlinkTags.run({ article: articleId });
  if (tagList.length === 0) return;
  const names = JSON.stringify(tagList);
  w.insertTags.run({ names });
  w.linkTags.run({ article: articleId, names });
}

/** Run `write(slug)` with the title's slug, then with random suffixes while the slug is taken. */
function withUniqueSlug<T>(title: string, write: (slug: string) => T): T {
  const base = slugify(title);
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${slugSuffix()}`;
    try {
      return write(slug);
    } catch (err) {
      const message = uniqueViolation(err);
      if (!message?.includes("slug") || attempt >= 8) throw err;
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
export function getArticle(ctx: AppContext, slug: string, viewer?: Reader) {
  const entry = articleEntry(ctx, slug);
  if (!entry) throw missingArticle(ctx.db, slug);
  return articleReply(ctx, entry, viewer);
}

/** The article after a write, as the writer sees it (a plain object: write responses are not cached). */
function articleAfterWrite(ctx: AppContext, slug: string, viewer: Reader) {
  const entry = articleEntry(ctx, slug);
  if (!entry) throw notFound("article");
  return articleObject(ctx, entry, viewer);
}

interface PageQuery {
  limit?: string;
  offset?: string;
}

/**
 * GET /api/articles, with or without `q`. Pages are cached by their normalised query (usernames resolved to
 * ids, search text to its FTS expression); unknown users and wordless searches answer an empty list.
 */
export function listArticles(ctx: AppContext, filters: ListFilters, viewer?: Reader) {
  const page = pageOf(filters);
  const tag = filters.tag || undefined;
  const author = filters.author ? userIdOf(ctx, filters.author) : undefined;
  const favorited = filters.favorited ? userIdOf(ctx, filters.favorited) : undefined;
  if ((filters.author && author === undefined) || (filters.favorited && favorited === undefined))
    return emptyList();
  const text = filters.q?.trim();
  if (text) {
    const match = toFtsQuery(text);
    if (match === undefined) return emptyList();
    const key = JSON.stringify(["q", match, tag, author, favorited, page.limit, page.offset]);
    const entry = ctx.caches.lists.load(key, () =>
      listEntry(searchPage(ctx, match, { tag, author, favorited }, page)),
    )!;
    return listReply(ctx, entry, viewer);
  }
  const shape = { tag: !!tag, author: author !== undefined, favorited: favorited !== undefined, feed: false };
  const key = JSON.stringify(["l", tag, author, favorited, page.limit, page.offset]);
  const entry = ctx.caches.lists.load(key, () =>
    listEntry(readPage(ctx, shape, { tag, author, favorited, ...page }, countKeyOf(tag, author, favorited))),
  )!;
  return listReply(ctx, entry, viewer);
}

/** The cached total's key for a filter, if it has one (no filter or exactly one). */
function countKeyOf(tag?: string, author?: number, favorited?: number): string | undefined {
  const set = +(tag !== undefined) + +(author !== undefined) + +(favorited !== undefined);
  if (set === 0) return countKeys.all;
  if (set > 1) return undefined;
  if (tag !== undefined) return countKeys.tag(tag);
  return author !== undefined ? countKeys.author(author) : countKeys.favorited(favorited!);
}

const FEED: ListShape = { tag: false, author: false, favorited: false, feed: true };

/**
 * GET /api/articles/feed: cached per reader (never served to anyone else), with the flags overlaid like
 * any list, since favourites change more often than a feed's articles.
 */
export function feedArticles(ctx: AppContext, viewer: Reader, query: PageQuery) {
  const page = pageOf(query);
  const entry = ctx.caches.feeds.load(feedKey(viewer.id, page), () =>
    listEntry(readPage(ctx, FEED, { viewer: viewer.id, ...page }, undefined)),
  )!;
  return listReply(ctx, entry, viewer);
}

export function createArticle(ctx: AppContext, viewer: ArticleViewer, input: CreateArticleInput) {
  if (!can(viewer.role, "article:write")) throw forbidden("article");
  const tagList = cleanTags(input.tagList ?? []);
  const now = ctx.clock.now();
  const slug = withUniqueSlug(input.title, (slug) =>
    ctx.events.transact((_tx, emit) => {
      const w = articleWrites(ctx.db);
      const { id } = w.insert.get({
        slug,
        title: input.title,
        description: input.description,
        body: input.body,
        authorId: viewer.id,
        now,
      })!;
      takeSlug(ctx.db, slug);
      setTags(ctx, id, tagList);
      indexArticle(ctx.db, id, { replace: false });
      emit({ type: "article.created", articleId: id, slug, authorId: viewer.id, tags: tagList });
      return slug;
    }),
  );
  return articleAfterWrite(ctx, slug, viewer);
}

/**
 * The article a write names: 404 if the slug is unknown (308 to the current one if it is a former slug), then
 * 403 unless the viewer wrote it or may moderate.
 */
function findOwned(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  const head = articleQueries(ctx.db).headBySlug.get({ slug });
  if (!head) throw missingArticle(ctx.db, slug, "", 308);
  const own = head.authorId === viewer.id && can(viewer.role, "article:write");
  if (!own && !can(viewer.role, "article:moderate")) throw forbidden("article");
  return head;
}

export function updateArticle(
  ctx: AppContext,
  viewer: ArticleViewer,
  slug: string,
  input: UpdateArticleInput,
) {
  const head = findOwned(ctx, viewer, slug);
  // updatedAt always moves forward, even within the same millisecond as the last write.
  const updatedAt = Math.max(ctx.clock.now(), head.updatedAt + 1);
  const changes = {
    ...(input.title !== undefined && { title: input.title }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.body !== undefined && { body: input.body }),
    updatedAt,
  };
  const write = (newSlug: string) =>
    ctx.events.transact((tx, emit) => {
      tx.update(articles)
        .set({ ...changes, slug: newSlug })
        .where(eq(articles.id, head.id))
        .run();
      if (newSlug !== head.slug) renameSlug(ctx.db, head.id, head.slug, newSlug, updatedAt);
      if (input.tagList !== undefined) setTags(ctx, head.id, cleanTags(input.tagList));
      indexArticle(ctx.db, head.id, { replace: true });
      const tags = tagsOf(ctx, head.id);
      emit({
        type: "article.updated",
        articleId: head.id,
        slug: newSlug,
        previousSlug: head.slug,
        authorId: head.authorId,
        tags,
      });
      return newSlug;
    });
  // A new title gets a new slug (the RealWorld spec); the old one redirects to it from now on.
  const keepSlug = input.title === undefined || slugFits(head.slug, input.title);
  const finalSlug = keepSlug ? write(head.slug) : withUniqueSlug(input.title!, write);
  return articleAfterWrite(ctx, finalSlug, viewer);
}

export function deleteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string): void {
  const head = findOwned(ctx, viewer, slug);
  removeArticle(ctx, head);
}

/** Delete an article found by the caller (its author, or a moderator through the admin API). */
export function removeArticle(ctx: AppContext, head: { id: number; slug: string; authorId: number }): void {
  ctx.events.transact((tx, emit) => {
    // Emitted first so that in-transaction handlers can still read the article.
    emit({
      type: "article.deleted",
      articleId: head.id,
      slug: head.slug,
      authorId: head.authorId,
      tags: tagsOf(ctx, head.id),
    });
    // Comments, favorites, tag links and the search entry go with it (ON DELETE CASCADE, trigger).
    tx.delete(articles).where(eq(articles.id, head.id)).run();
  });
}

export function favoriteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  return setFavorite(ctx, viewer, slug, true);
}

export function unfavoriteArticle(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  return setFavorite(ctx, viewer, slug, false);
}

function setFavorite(ctx: AppContext, viewer: ArticleViewer, slug: string, on: boolean) {
  const head = articleQueries(ctx.db).headBySlug.get({ slug });
  if (!head) throw missingArticle(ctx.db, slug, "/favorite", 308);
  if (!can(viewer.role, "favorite:write")) throw forbidden("article");
  ctx.events.transact((_tx, emit) => {
    const w = articleWrites(ctx.db);
    const pair = { user: viewer.id, article: head.id };
    const changed = on ? w.favorite.all(pair) : w.unfavorite.all(pair);
    // Counted only when a row really changed: 40 concurrent favorites by one user count once.
    if (changed.length === 0) return;
    const row = w.countFavorite.get({ article: head.id, delta: on ? 1 : -1 });
    emit({
      type: on ? "article.favorited" : "article.unfavorited",
      articleId: head.id,
      slug: head.slug,
      userId: viewer.id,
      favoritesCount: row!.favoritesCount,
    });
  });
  return articleAfterWrite(ctx, head.slug, viewer);
}

/**
 * Articles: create, read, list, feed, update, delete, favorite. Write paths run in one transaction each;
 * uniqueness (slugs, favorites) is decided by the database, never by a check-then-insert.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext, Tx } from "../../context.ts";
import { articles, articleTags, favorites, type Role, tags } from "../../db/schema.ts";
import { forbidden, notFound, uniqueViolation } from "../../errors.ts";
import { slugify, slugSuffix } from "../../lib/slug.ts";
import { can } from "../../policy.ts";
import { pageOf } from "../shared/model.ts";
import type { CreateArticleInput, ListFilters, UpdateArticleInput } from "./model.ts";
import { articleQueries, type ListShape, toArticle, toListItem } from "./queries.ts";

export interface ArticleViewer {
  id: number;
  role: Role;
}

function tagsOf(tx: Tx, articleId: number): string[] {
  return tx
    .select({ name: tags.name })
    .from(articleTags)
    .innerJoin(tags, eq(tags.id, articleTags.tagId))
    .where(eq(articleTags.articleId, articleId))
    .orderBy(articleTags.position)
    .all()
    .map((r) => r.name);
}

/** Write the article's full-text entry (drizzle/0002_search.sql), in the caller's transaction. */
function indexForSearch(tx: Tx, articleId: number): void {
  tx.run(sql`insert or replace into articles_fts (rowid, title, description, body, tags)
    select a.id, a.title, a.description, a.body,
      coalesce((select group_concat(t.name, ' ') from ${articleTags} at join ${tags} t on t.id = at.tag_id
                where at.article_id = a.id), '')
    from ${articles} a where a.id = ${articleId}`);
}

/** Trimmed, de-duplicated, in the author's order. */
function cleanTags(tagList: readonly string[]): string[] {
  return [...new Set(tagList.map((tag) => tag.trim()).filter(Boolean))];
}

function setTags(tx: Tx, articleId: number, tagList: string[]): void {
  tx.delete(articleTags).where(eq(articleTags.articleId, articleId)).run();
  if (tagList.length === 0) return;
  tx.insert(tags)
    .values(tagList.map((name) => ({ name })))
    .onConflictDoNothing()
    .run();
  const ids = new Map(
    tx
      .select({ id: tags.id, name: tags.name })
      .from(tags)
      .where(inArray(tags.name, tagList))
      .all()
      .map((r) => [r.name, r.id]),
  );
  tx.insert(articleTags)
    .values(tagList.map((name, position) => ({ articleId, tagId: ids.get(name)!, position })))
    .run();
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

export function getArticle(ctx: AppContext, slug: string, viewer?: { id: number }) {
  const row = articleQueries(ctx.db).bySlug.get({ slug, viewer: viewer?.id ?? 0 });
  if (!row) throw notFound("article");
  return { article: toArticle(row) };
}

function runList(ctx: AppContext, shape: ListShape, params: Record<string, unknown>, query: PageQuery) {
  const q = articleQueries(ctx.db).list(shape);
  const rows = q.page.all({ ...params, ...pageOf(query) });
  const total = q.count.get(params)?.n ?? 0;
  return { articles: rows.map(toListItem), articlesCount: total };
}

interface PageQuery {
  limit?: string;
  offset?: string;
}

export function listArticles(ctx: AppContext, filters: ListFilters, viewer?: { id: number }) {
  const shape = { tag: !!filters.tag, author: !!filters.author, favorited: !!filters.favorited, feed: false };
  const params = {
    viewer: viewer?.id ?? 0,
    tag: filters.tag,
    author: filters.author,
    favorited: filters.favorited,
  };
  return runList(ctx, shape, params, filters);
}

export function feedArticles(ctx: AppContext, viewer: { id: number }, page: PageQuery) {
  return runList(
    ctx,
    { tag: false, author: false, favorited: false, feed: true },
    { viewer: viewer.id },
    page,
  );
}

export function createArticle(ctx: AppContext, viewer: ArticleViewer, input: CreateArticleInput) {
  if (!can(viewer.role, "article:write")) throw forbidden("article");
  const tagList = cleanTags(input.tagList ?? []);
  const now = ctx.clock.now();
  const slug = withUniqueSlug(input.title, (slug) =>
    ctx.events.transact((tx, emit) => {
      const [row] = tx
        .insert(articles)
        .values({
          slug,
          title: input.title,
          description: input.description,
          body: input.body,
          authorId: viewer.id,
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: articles.id })
        .all();
      setTags(tx, row!.id, tagList);
      indexForSearch(tx, row!.id);
      emit({ type: "article.created", articleId: row!.id, slug, authorId: viewer.id, tags: tagList });
      return slug;
    }),
  );
  return getArticle(ctx, slug, viewer);
}

/** 404 if the slug is unknown, then 403 unless the viewer wrote it or may moderate. */
function findOwned(ctx: AppContext, viewer: ArticleViewer, slug: string) {
  const head = articleQueries(ctx.db).headBySlug.get({ slug });
  if (!head) throw notFound("article");
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
      if (input.tagList !== undefined) setTags(tx, head.id, cleanTags(input.tagList));
      indexForSearch(tx, head.id);
      const tags = tagsOf(tx, head.id);
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
  // A new title gets a new slug (the RealWorld spec); the old slug stops resolving.
  const keepSlug = input.title === undefined || slugFits(head.slug, input.title);
  const finalSlug = keepSlug ? write(head.slug) : withUniqueSlug(input.title!, write);
  return getArticle(ctx, finalSlug, viewer);
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
      tags: tagsOf(tx, head.id),
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
  if (!head) throw notFound("article");
  if (!can(viewer.role, "favorite:write")) throw forbidden("article");
  ctx.events.transact((tx, emit) => {
    const where = and(eq(favorites.userId, viewer.id), eq(favorites.articleId, head.id));
    const changed = on
      ? tx
          .insert(favorites)
          .values({ userId: viewer.id, articleId: head.id })
          .onConflictDoNothing()
          .returning({ articleId: favorites.articleId })
          .all()
      : tx.delete(favorites).where(where).returning({ articleId: favorites.articleId }).all();
    // Counted only when a row really changed: 40 concurrent favorites by one user count once.
    if (changed.length === 0) return;
    const delta = on ? sql`${articles.favoritesCount} + 1` : sql`max(${articles.favoritesCount} - 1, 0)`;
    const [row] = tx
      .update(articles)
      .set({ favoritesCount: delta })
      .where(eq(articles.id, head.id))
      .returning({ favoritesCount: articles.favoritesCount })
      .all();
    emit({
      type: on ? "article.favorited" : "article.unfavorited",
      articleId: head.id,
      slug: head.slug,
      userId: viewer.id,
      favoritesCount: row!.favoritesCount,
    });
  });
  return getArticle(ctx, head.slug, viewer);
}

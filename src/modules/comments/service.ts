/** Comments on articles: oldest first; authors delete their own, admins moderate any. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { articles, comments, follows, type Role, users } from "../../db/schema.ts";
import { forbidden, notFound } from "../../errors.ts";
import { perOwner } from "../../lib/memo.ts";
import { can } from "../../policy.ts";
import { missingArticle, type Redirect } from "../articles/former-slugs.ts";
import { pageOf } from "../shared/model.ts";

/**
 * The most comments one request returns. RealWorld has no comment pagination, so by default a page is the
 * whole cap; `limit`/`offset` page further.
 */
export const MAX_COMMENTS_PAGE = 1000;

const viewer = sql.placeholder("viewer");
const fields = {
  id: comments.id,
  createdAt: comments.createdAt,
  updatedAt: comments.updatedAt,
  body: comments.body,
  authorUsername: users.username,
  authorBio: users.bio,
  authorImage: users.image,
  following: sql<number>`exists(select 1 from ${follows} where ${follows.followerId} = ${viewer} and ${follows.followeeId} = ${comments.authorId})`,
};

const queries = perOwner((db: AppContext["db"]) => ({
  articleId: db
    .select({ id: articles.id })
    .from(articles)
    .where(eq(articles.slug, sql.placeholder("slug")))
    .prepare(),
  list: db
    .select(fields)
    .from(comments)
    .innerJoin(users, eq(users.id, comments.authorId))
    .where(eq(comments.articleId, sql.placeholder("articleId")))
    .orderBy(asc(comments.id))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset"))
    .prepare(),
  one: db
    .select(fields)
    .from(comments)
    .innerJoin(users, eq(users.id, comments.authorId))
    .where(eq(comments.id, sql.placeholder("id")))
    .prepare(),
  insert: db
    .insert(comments)
    .values({
      articleId: sql.placeholder("articleId"),
      authorId: sql.placeholder("authorId"),
      body: sql.placeholder("body"),
      createdAt: sql.placeholder("now"),
      updatedAt: sql.placeholder("now"),
    })
    .returning({ id: comments.id })
    .prepare(),
  head: db
    .select({ authorId: comments.authorId })
    .from(comments)
    .where(and(eq(comments.id, sql.placeholder("id")), eq(comments.articleId, sql.placeholder("articleId"))))
    .prepare(),
}));

type Row = NonNullable<ReturnType<ReturnType<typeof queries>["one"]["get"]>>;

const iso = (ms: number) => new Date(ms).toISOString();
const toComment = (r: Row) => ({
  id: r.id,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  body: r.body,
  author: {
    username: r.authorUsername,
    bio: r.authorBio,
    image: r.authorImage,
    following: r.following === 1,
  },
});

/**
 * The id of the article `slug` names; 404 if none, or a redirect to `suffix` under the current slug if `slug`
 * is a former one (301 for reads, 308 for writes: src/modules/articles/former-slugs.ts).
 */
function articleIdOf(ctx: AppContext, slug: string, suffix: () => string, status: Redirect): number {
  const row = queries(ctx.db).articleId.get({ slug });
  if (!row) throw missingArticle(ctx.db, slug, suffix(), status);
  return row.id;
}

/** Delete a comment found by the caller (its author, or a moderator through the admin API). */
export function removeComment(
  ctx: AppContext,
  comment: { id: number; articleId: number; slug: string; authorId: number },
): void {
  ctx.events.transact((tx, emit) => {
    emit({
      type: "comment.deleted",
      commentId: comment.id,
      articleId: comment.articleId,
      slug: comment.slug,
      authorId: comment.authorId,
    });
    tx.delete(comments).where(eq(comments.id, comment.id)).run();
  });
}

export function listComments(
  ctx: AppContext,
  slug: string,
  query: { limit?: string; offset?: string },
  viewer?: { id: number },
) {
  const articleId = articleIdOf(
    ctx,
    slug,
    () => {
      const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined));
      return search.size > 0 ? `/comments?${search}` : "/comments";
    },
    301,
  );
  const page = pageOf(query, MAX_COMMENTS_PAGE, MAX_COMMENTS_PAGE);
  const rows = queries(ctx.db).list.all({ articleId, viewer: viewer?.id ?? 0, ...page });
  return { comments: rows.map(toComment) };
}

export function addComment(ctx: AppContext, viewer: { id: number; role: Role }, slug: string, body: string) {
  const articleId = articleIdOf(ctx, slug, () => "/comments", 308);
  if (!can(viewer.role, "comment:write")) throw forbidden("comment");
  const now = ctx.clock.now();
  const id = ctx.events.transact((_tx, emit) => {
    // Prepared once per connection; it runs inside this transaction (one connection, one transaction).
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    const [row] = queries(ctx.db).insert.all({ articleId, authorId: viewer.id, body, now });
    emit({ type: "comment.created", commentId: row!.id, articleId, slug, authorId: viewer.id });
    return row!.id;
  });
  return { comment: toComment(queries(ctx.db).one.get({ id, viewer: viewer.id })!) };
}

/** 404 for an unknown article, then for a comment not on that article, then 403 unless author or moderator. */
export function deleteComment(ctx: AppContext, viewer: { id: number; role: Role }, slug: string, id: number) {
  const articleId = articleIdOf(ctx, slug, () => `/comments/${id}`, 308);
  const head = queries(ctx.db).head.get({ id, articleId });
  if (!head) throw notFound("comment");
  const own = head.authorId === viewer.id && can(viewer.role, "comment:write");
  if (!own && !can(viewer.role, "comment:moderate")) throw forbidden("comment");
  removeComment(ctx, { id, articleId, slug, authorId: head.authorId });
}

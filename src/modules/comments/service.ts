/** Comments on articles: oldest first; authors delete their own, admins moderate any. */
import type { AppContext } from "../../context.ts";
import { forbidden, notFound } from "../../errors.ts";
import type { PublicComment } from "../../events.ts";
import { pageOf } from "../../lib/paging.ts";
import { assertMayWrite, can, type Role } from "../../policy.ts";
import type { CommentHead, CommentRow } from "../../store/content.ts";
import { MissingReference } from "../../store/errors.ts";
import type { WriteTx } from "../../store/store.ts";
import { articleHead, missingArticle, type Redirect } from "../articles/service.ts";

/**
 * The most comments one request returns. RealWorld has no comment pagination, so by default a page is the
 * whole cap; `limit`/`offset` page further.
 */
export const MAX_COMMENTS_PAGE = 1000;

const iso = (ms: number) => new Date(ms).toISOString();
/** The public facts of a stored comment (what its events carry). */
const publicOf = (r: CommentRow): PublicComment => ({
  id: r.id,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  body: r.body,
  author: { username: r.authorUsername, bio: r.authorBio, image: r.authorImage },
});

/** A comment as the API shows it to a reader who does (`following`) or does not follow its author. */
const view = (c: PublicComment, following: boolean) => ({
  id: c.id,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
  body: c.body,
  author: { ...c.author, following },
});

export const toComment = (r: CommentRow) => ({
  id: r.id,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  body: r.body,
  author: {
    username: r.authorUsername,
    bio: r.authorBio,
    image: r.authorImage,
    following: r.following,
  },
});

/**
 * The id of the article `slug` names; 404 if none, or a redirect to `suffix` under the current slug if `slug`
 * is a former one (301 for reads, 308 for writes: src/modules/articles/former-slugs.ts).
 */
async function articleIdOf(
  ctx: AppContext,
  slug: string,
  suffix: () => string,
  status: Redirect,
): Promise<number> {
  const head = await articleHead(ctx, slug);
  if (!head) throw await missingArticle(ctx, slug, suffix(), status);
  return head.id;
}

/**
 * Delete a comment found by the caller (its author, or a moderator through the admin API), in the caller's
 * unit of work.
 */
export async function removeComment(tx: WriteTx, comment: CommentHead): Promise<void> {
  const row = await tx.comments.one(comment.id, 0);
  if (!row) return; // gone already (a concurrent delete): nothing to tell anyone
  await tx.comments.delete(comment.id);
  await tx.emit({
    type: "comment.deleted",
    commentId: comment.id,
    articleId: comment.articleId,
    slug: comment.slug,
    authorId: comment.authorId,
    comment: publicOf(row),
  });
}

export async function listComments(
  ctx: AppContext,
  slug: string,
  query: { limit?: string; offset?: string },
  viewer?: { id: number },
) {
  const articleId = await articleIdOf(
    ctx,
    slug,
    () => {
      const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined));
      return search.size > 0 ? `/comments?${search}` : "/comments";
    },
    301,
  );
  const page = pageOf(query, MAX_COMMENTS_PAGE, MAX_COMMENTS_PAGE);
  const rows = await ctx.store.read.comments.list(articleId, viewer?.id ?? 0, page);
  return { comments: rows.map(toComment) };
}

export async function addComment(
  ctx: AppContext,
  viewer: { id: number; role: Role; emailVerified: boolean },
  slug: string,
  body: string,
) {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const articleId = await articleIdOf(ctx, slug, () => "/comments", 308);
  if (!can(viewer.role, "comment:write")) throw forbidden("comment");
  const now = ctx.clock.now();
  const comment = await ctx.store
    .write(async (tx) => {
      const author = await tx.users.byId(viewer.id);
      if (!author) throw notFound("user");
      const id = await tx.comments.insert({ articleId, authorId: viewer.id, body, now });
      const created: PublicComment = {
        id,
        createdAt: now,
        updatedAt: now,
        body,
        author: { username: author.username, bio: author.bio, image: author.image },
      };
      await tx.emit({
        type: "comment.created",
        commentId: id,
        articleId,
        slug,
        authorId: viewer.id,
        comment: created,
      });
      return created;
    })
    .catch((err) => {
      // The article was deleted between the lookup and the write.
      throw err instanceof MissingReference ? notFound("article") : err;
    });
  // `following` is false: nobody follows themselves.
  return { comment: view(comment, false) };
}

/** 404 for an unknown article, then for a comment not on that article, then 403 unless author or moderator. */
export async function deleteComment(
  ctx: AppContext,
  viewer: { id: number; role: Role; emailVerified: boolean },
  slug: string,
  id: number,
): Promise<void> {
  assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const articleId = await articleIdOf(ctx, slug, () => `/comments/${id}`, 308);
  const head = await ctx.store.read.comments.head(id);
  if (!head || head.articleId !== articleId) throw notFound("comment");
  const own = head.authorId === viewer.id && can(viewer.role, "comment:write");
  if (!own && !can(viewer.role, "comment:moderate")) throw forbidden("comment");
  await ctx.store.write((tx) => removeComment(tx, head));
}

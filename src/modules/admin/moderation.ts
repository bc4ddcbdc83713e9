/**
 * Moderation: admins delete any article or comment. The deletes are the authors' own (removeArticle,
 * removeComment: same events, same cascades); the audit row follows the delete, since those services commit
 * their own transaction.
 */
import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { articles, comments } from "../../db/schema.ts";
import { notFound } from "../../errors.ts";
import { articleQueries } from "../articles/queries.ts";
import { removeArticle } from "../articles/service.ts";
import { recordAudit } from "../audit/service.ts";
import { removeComment } from "../comments/service.ts";

export function moderateArticle(
  ctx: AppContext,
  actor: { id: number },
  slug: string,
  meta: { ip?: string } = {},
) {
  const head = articleQueries(ctx.db).headBySlug.get({ slug });
  if (!head) throw notFound("article");
  removeArticle(ctx, head);
  recordAudit(ctx, {
    action: "article.removed",
    actorId: actor.id,
    targetType: "article",
    targetId: head.id,
    ip: meta.ip,
    detail: { slug: head.slug, authorId: head.authorId },
  });
}

export function moderateComment(
  ctx: AppContext,
  actor: { id: number },
  id: number,
  meta: { ip?: string } = {},
) {
  const comment = ctx.db
    .select({
      id: comments.id,
      articleId: comments.articleId,
      authorId: comments.authorId,
      slug: articles.slug,
    })
    .from(comments)
    .innerJoin(articles, eq(articles.id, comments.articleId))
    .where(eq(comments.id, id))
    .get();
  if (!comment) throw notFound("comment");
  removeComment(ctx, comment);
  recordAudit(ctx, {
    action: "comment.removed",
    actorId: actor.id,
    targetType: "comment",
    targetId: comment.id,
    ip: meta.ip,
    detail: { slug: comment.slug, authorId: comment.authorId },
  });
}

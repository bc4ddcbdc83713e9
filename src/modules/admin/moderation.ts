/**
 * Moderation: admins delete any article or comment. The deletes are the authors' own (removeArticle,
 * removeComment: same events, same cascades), with the audit row in the same unit of work.
 */
import type { AppContext } from "../../context.ts";
import { notFound } from "../../errors.ts";
import { removeArticle } from "../articles/service.ts";
import { recordAudit } from "../audit/service.ts";
import { removeComment } from "../comments/service.ts";

export async function moderateArticle(
  ctx: AppContext,
  actor: { id: number },
  slug: string,
  meta: { ip?: string } = {},
) {
  const head = await ctx.store.read.articles.headBySlug(slug);
  if (!head) throw notFound("article");
  await ctx.store.write(async (tx) => {
    await removeArticle(tx, head);
    await recordAudit(ctx, tx, {
      action: "article.removed",
      actorId: actor.id,
      targetType: "article",
      targetId: head.id,
      ip: meta.ip,
      detail: { slug: head.slug, authorId: head.authorId },
    });
  });
}

export async function moderateComment(
  ctx: AppContext,
  actor: { id: number },
  id: number,
  meta: { ip?: string } = {},
) {
  const comment = await ctx.store.read.comments.head(id);
  if (!comment) throw notFound("comment");
  await ctx.store.write(async (tx) => {
    await removeComment(tx, comment);
    await recordAudit(ctx, tx, {
      action: "comment.removed",
      actorId: actor.id,
      targetType: "comment",
      targetId: comment.id,
      ip: meta.ip,
      detail: { slug: comment.slug, authorId: comment.authorId },
    });
  });
}

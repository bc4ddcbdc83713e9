/**
 * Deleting an account: by its owner (DELETE /api/user, with the password) or by an admin (DELETE
 * /api/admin/users/:username). One unit of work, so it happens entirely or not at all. In order:
 *
 * 1. Each of their articles is announced as deleted (`article.deleted`, as a moderator's delete would), so
 *    realtime subscribers, webhooks and caches hear of each one as usual; the rows go in step 7.
 * 2. Their comments on other people's articles likewise (`comment.deleted` each). Both are emitted while
 *    the rows can still be read (in-transaction handlers build payloads from them).
 * 3. Their favourites of other people's articles are taken back: each count goes down by one and
 *    `article.unfavorited` carries the new count (realtime, cached articles).
 * 4. Every session ends (`sessions.ended`: tokens refused on their next request, sockets closed with 4001).
 * 5. `user.deleted`: caches drop the profile, the outbox drops the account's mail jobs (a pending email, a
 *    finished notice still holding an address).
 * 6. Audit entries they made, or made anonymously about them (failed logins, reset requests), lose their
 *    client addresses (an admin's actions keep the admin's); one `user.deleted` entry is written with counts
 *    only (who did it if an admin; for a self-deletion, no actor and no address).
 * 7. The row goes; the foreign keys take the rest in one statement: their articles (with the comments,
 *    favourites, tag links, former slugs and search entries of each), their comments, follows both ways,
 *    account tokens, what remains of the sessions. Its id is recorded so it is never given to another
 *    account. The username and the address are free at once. (One cascade rather than a delete per row:
 *    1,000 articles go in ~20 ms instead of ~350 ms, and the unit holds the writer for less.)
 *
 * The last active admin cannot be deleted (409), whoever asks. Backups taken before keep the account until
 * they are rotated out (BACKUP_KEEP).
 */
import type { AppContext } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";
import type { UserRow } from "../../store/accounts.ts";
import type { WriteTx } from "../../store/store.ts";
import { recordAudit } from "../audit/service.ts";
import { endSessions } from "../sessions/service.ts";
import type { RequestMeta } from "../users/service.ts";

interface Deletion {
  /** The admin who deletes it; undefined: the account itself. */
  admin?: { id: number };
  ip?: string;
}

const lastAdmin = () => new AppError(409, { user: ["is the last active admin"] });

async function removeAccount(ctx: AppContext, tx: WriteTx, user: UserRow, by: Deletion): Promise<void> {
  const activeAdmin = user.role === "admin" && !user.suspended;
  if (activeAdmin && (await tx.users.countActiveAdmins()) <= 1) throw lastAdmin();
  const articles = await tx.accountData.ownArticles(user.id);
  for (const a of articles) {
    await tx.emit({
      type: "article.deleted",
      articleId: a.id,
      slug: a.slug,
      authorId: a.authorId,
      tags: a.tags,
    });
  }
  const comments = await tx.accountData.commentsElsewhere(user.id);
  for (const c of comments) {
    await tx.emit({
      type: "comment.deleted",
      commentId: c.id,
      articleId: c.articleId,
      slug: c.slug,
      authorId: c.authorId,
      comment: {
        id: c.id,
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
        body: c.body,
        author: { username: user.username, bio: user.bio, image: user.image },
      },
    });
  }
  const favorites = await tx.accountData.releaseFavorites(user.id);
  for (const f of favorites) {
    await tx.emit({
      type: "article.unfavorited",
      articleId: f.articleId,
      slug: f.slug,
      userId: user.id,
      favoritesCount: f.favoritesCount,
    });
  }
  const sessions = await endSessions(ctx, tx, { userId: user.id }, "account-deleted");
  await tx.emit({ type: "user.deleted", userId: user.id, username: user.username });
  await tx.audit.forgetAddressesOf(user.id);
  await recordAudit(ctx, tx, {
    action: "user.deleted",
    actorId: by.admin?.id ?? null,
    targetType: "user",
    targetId: user.id,
    ip: by.admin ? by.ip : null,
    detail: {
      via: by.admin ? "admin" : "self",
      articles: articles.length,
      comments: comments.length,
      favorites: favorites.length,
      sessions: sessions.length,
    },
  });
  if (!(await tx.users.delete(user.id, ctx.clock.now()))) throw notFound("user");
  // Checked again after the delete, inside the unit: the count and the change cannot disagree.
  if (activeAdmin && (await tx.users.countActiveAdmins()) === 0) throw lastAdmin();
}

/**
 * The account deletes itself: the password must match (403 otherwise, and nothing changes). No client address
 * is recorded: the entry left behind says what happened, not who or from where.
 */
export async function deleteAccount(
  ctx: AppContext,
  viewer: { id: number },
  password: string,
): Promise<void> {
  const user = await ctx.store.read.users.byId(viewer.id);
  const ok = await ctx.passwords.verify(password, user?.passwordHash);
  if (!user) throw new AppError(401, { token: ["is invalid"] });
  if (!ok) throw new AppError(403, { password: ["is wrong"] });
  await ctx.store.write(async (tx) => {
    // Read again in the unit: what is deleted is the account as it is now.
    const current = await tx.users.byId(user.id);
    if (!current) throw new AppError(401, { token: ["is invalid"] });
    await removeAccount(ctx, tx, current, {});
  });
}

/** An admin deletes an account by username (audited with the admin and their address). */
export async function deleteAccountAsAdmin(
  ctx: AppContext,
  admin: { id: number },
  username: string,
  meta: RequestMeta = {},
): Promise<void> {
  await ctx.store.write(async (tx) => {
    const user = await tx.users.byUsername(username);
    if (!user) throw notFound("user");
    await removeAccount(ctx, tx, user, { admin, ip: meta.ip });
  });
}

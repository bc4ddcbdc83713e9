/**
 * The account lifecycle: password reset and email verification by one-time links (the token model is in
 * ./tokens.ts), the data export (./export.ts) and the account's deletion (./deletion.ts). Framework-free: the
 * same functions serve HTTP, the admin API and tests.
 *
 * Password reset, and why it cannot be used to learn who has an account:
 * - A request answers the same (202, same body) for every address, and does the same work before answering:
 *   one lookup, then one unit of work with one audit entry and `user.password_reset_requested`, on which the
 *   outbox enqueues the email job, for an unknown address too (a job that sends nothing). The token is made
 *   and the email sent later, by the job, off the request's path. bench/accounts.ts measures what difference
 *   in time is left.
 * - Requests are rate limited per client IP and per address (the address is hashed into the limiter's key).
 * - Confirming sets the new password (hashed before the unit of work), marks the address verified (the link
 *   reached it), retires every other reset link, ends every session of the account and signs in on a new
 *   one, in one unit of work. The password-change notice goes to the address.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { createSession, endSessions } from "../sessions/service.ts";
import { type IssueToken, type RequestMeta, toUser } from "../users/service.ts";
import { hashAccountToken, invalidAccountToken, isAccountToken } from "./tokens.ts";

export { deleteAccount, deleteAccountAsAdmin } from "./deletion.ts";
export { type AccountExport, exportAccount } from "./export.ts";
export { issueAccountToken } from "./tokens.ts";

/** The one answer to every reset request. */
export const RESET_REQUESTED = {
  message: "If an account uses this address, an email with a link to reset its password is on its way.",
} as const;

/** A short hash of an address as typed (audit entries about unknown addresses never hold the address). */
export const addressHash = (email: string) =>
  createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 16);

export async function requestPasswordReset(ctx: AppContext, email: string, meta: RequestMeta = {}) {
  const user = await ctx.store.read.users.byEmail(email);
  const eligible = user !== undefined && !user.suspended;
  await ctx.store.write(async (tx) => {
    await recordAudit(ctx, tx, {
      action: "user.password_reset_requested",
      ...(user && { targetType: "user" as const, targetId: user.id }),
      ip: meta.ip,
      ...(!eligible && {
        detail: user ? { reason: "suspended" } : { reason: "unknown-email", emailHash: addressHash(email) },
      }),
    });
    await tx.emit({ type: "user.password_reset_requested", userId: eligible ? user.id : null });
  });
  return RESET_REQUESTED;
}

export async function confirmPasswordReset(
  ctx: AppContext,
  input: { token: string; password: string },
  issueToken: IssueToken,
  meta: RequestMeta = {},
) {
  if (!isAccountToken("password-reset", input.token)) throw invalidAccountToken();
  // Hashed before the unit of work (a unit only does store work), and before we know the token is good:
  // every well-formed token costs the same.
  const passwordHash = await ctx.passwords.hash(input.password);
  const now = ctx.clock.now();
  const done = await ctx.store.write(async (tx) => {
    const claimed = await tx.accountTokens.consume("password-reset", hashAccountToken(input.token), now);
    if (!claimed) return undefined;
    const before = await tx.users.byId(claimed.userId);
    if (!before) return undefined;
    const user = await tx.users.update(before.id, {
      passwordHash,
      // The link reached the address: that verifies it.
      emailVerifiedAt: before.emailVerifiedAt ?? now,
      updatedAt: now,
    });
    if (!user) return undefined;
    await tx.accountTokens.retire(user.id, "password-reset", now);
    const ended = await endSessions(ctx, tx, { userId: user.id }, "password-reset");
    await recordAudit(ctx, tx, {
      action: "user.password_reset",
      actorId: user.id,
      targetType: "user",
      targetId: user.id,
      ip: meta.ip,
      detail: { via: "email", sessionsEnded: ended.length },
    });
    if (before.emailVerifiedAt === null) await tx.emit({ type: "user.email_verified", userId: user.id });
    await tx.emit({
      type: "user.updated",
      userId: user.id,
      username: user.username,
      previousUsername: before.username,
      email: user.email,
      previousEmail: before.email,
      passwordChanged: true,
    });
    return { user, session: await createSession(ctx, tx, user.id) };
  });
  if (!done) throw invalidAccountToken();
  const { user, session } = done;
  return { user: toUser(user, await issueToken(user.id, session), session.refreshToken) };
}

export async function verifyEmail(ctx: AppContext, token: string, meta: RequestMeta = {}) {
  if (!isAccountToken("email-verification", token)) throw invalidAccountToken();
  const now = ctx.clock.now();
  const user = await ctx.store.write(async (tx) => {
    const claimed = await tx.accountTokens.consume("email-verification", hashAccountToken(token), now);
    if (!claimed) return undefined;
    const row = await tx.users.markEmailVerified(claimed.userId, claimed.email, now);
    if (!row) return undefined;
    await tx.accountTokens.retire(row.id, "email-verification", now);
    await recordAudit(ctx, tx, {
      action: "user.email_verified",
      actorId: row.id,
      targetType: "user",
      targetId: row.id,
      ip: meta.ip,
    });
    await tx.emit({ type: "user.email_verified", userId: row.id });
    return row;
  });
  if (!user) throw invalidAccountToken();
  return { user: { username: user.username, email: user.email, emailVerified: true as const } };
}

/** A new verification link to the account's current address (202); 409 once it is verified. */
export async function requestVerificationEmail(ctx: AppContext, viewer: { id: number }) {
  const user = await ctx.store.read.users.byId(viewer.id);
  if (!user) throw new AppError(401, { token: ["is invalid"] });
  if (user.emailVerifiedAt !== null) throw new AppError(409, { email: ["is already verified"] });
  await ctx.store.write((tx) => tx.emit({ type: "user.email_verification_requested", userId: user.id }));
  return { message: "A link to verify your address is on its way." };
}

/**
 * Server-side sessions. Token model (refresh tokens: ./refresh.ts):
 * - A login (or registration) creates a session: a random id, an absolute expiry (SESSION_TTL_SECONDS) and a
 *   first refresh token. Access tokens (JWTs, src/http/auth.ts) name the session in `sid`.
 * - Every authenticated request checks that its session is live (not ended, not expired, user not
 *   suspended) and reads the user's current role with it (./checks.ts: cached briefly; every write that ends
 *   a session or changes a role drops the entries it affects, on every node, before it is answered).
 * - Sessions end early on logout, logout-all, a password change (all but the session that made it), a
 *   password reset by email, suspension, refresh-token reuse and the account's deletion. Each emits
 *   `sessions.ended`, on which realtime closes sockets.
 */
import { randomBytes } from "node:crypto";
import type { AppContext } from "../../context.ts";
import type { WriteTx } from "../../store/store.ts";
import { recordAudit } from "../audit/service.ts";
import { issueRefreshToken } from "./refresh.ts";

export type { SessionInfo } from "./checks.ts";
export { invalidRefreshToken, rotateRefreshToken } from "./refresh.ts";

export type EndReason =
  | "logout"
  | "logout-all"
  | "password-change"
  | "password-reset"
  | "suspended"
  | "refresh-token-reuse"
  | "account-deleted";

export interface NewSession {
  id: string;
  expiresAt: number;
  /** The session's first refresh token, shown to the client once and stored only as a hash. */
  refreshToken: string;
}

/** Start a session for a user who just proved who they are, in the caller's unit of work. */
export async function createSession(ctx: AppContext, tx: WriteTx, userId: number): Promise<NewSession> {
  const id = randomBytes(18).toString("base64url");
  const now = ctx.clock.now();
  const expiresAt = now + ctx.config.SESSION_TTL_SECONDS * 1000;
  await tx.sessions.insert({ id, userId, expiresAt, now });
  return { id, expiresAt, refreshToken: await issueRefreshToken(ctx, tx, id, expiresAt) };
}

/**
 * End live sessions (one, or every one of a user but `keep`) in the caller's unit of work, emitting
 * `sessions.ended` per user. Returns the ids that were live.
 */
export async function endSessions(
  ctx: AppContext,
  tx: WriteTx,
  which: { sid: string } | { userId: number; keep?: string },
  reason: EndReason,
): Promise<string[]> {
  const ended = await tx.sessions.end(which, ctx.clock.now());
  const byUser = new Map<number, string[]>();
  for (const { id, userId } of ended) byUser.set(userId, [...(byUser.get(userId) ?? []), id]);
  for (const [userId, sessionIds] of byUser)
    await tx.emit({ type: "sessions.ended", userId, sessionIds, reason });
  return ended.map((e) => e.id);
}

/** Sign out of this session. */
export async function logout(ctx: AppContext, sid: string): Promise<void> {
  await ctx.store.write((tx) => endSessions(ctx, tx, { sid }, "logout"));
}

/** Sign out everywhere: every session of the account, the caller's included. */
export async function logoutAll(ctx: AppContext, userId: number, meta: { ip?: string } = {}): Promise<void> {
  await ctx.store.write(async (tx) => {
    const ended = await endSessions(ctx, tx, { userId }, "logout-all");
    await recordAudit(ctx, tx, {
      action: "user.logout_all",
      actorId: userId,
      targetType: "user",
      targetId: userId,
      ip: meta.ip,
      detail: { sessions: ended.length },
    });
  });
}

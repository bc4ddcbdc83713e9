/**
 * Refresh tokens. Model:
 * - Opaque: `rt_` + 32 random bytes (base64url). Not JWTs, so they can never pass as access tokens, and an
 *   access token never matches their format. Stored only as SHA-256: a database leak yields no usable token
 *   (a fast hash suffices for 256 random bits; there is nothing to brute-force).
 * - A session is a refresh-token family. Each refresh retires the presented token and issues a new one in
 *   the same session, valid REFRESH_TTL_SECONDS but never past the session's absolute expiry.
 * - Retiring is ONE statement (`UPDATE … SET used_at WHERE token_hash = ? AND used_at IS NULL … RETURNING`),
 *   so of two concurrent refreshes with one token exactly one claims it, in this process or another.
 * - Presenting a retired token again means two parties hold the family (a stolen token): the whole session
 *   ends (every refresh token and access token of it) and `refresh_token.reused` is audited. With
 *   REFRESH_REUSE_GRACE_SECONDS > 0 (default 5), a reuse that soon after the rotation is only refused (a
 *   client racing itself keeps the winner: "of two concurrent refreshes exactly one wins"); the grace never
 *   issues a token, it only delays the revocation. 0 treats every reuse as theft.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, inArray, isNull } from "drizzle-orm";
import type { AppContext, Tx } from "../../context.ts";
import { refreshTokens, sessions, users } from "../../db/schema.ts";
import { AppError } from "../../errors.ts";
import { recordAudit } from "../audit/service.ts";
import { endSession } from "./service.ts";

export const REFRESH_TOKEN_PATTERN = "^rt_[A-Za-z0-9_-]{43}$";
const format = new RegExp(REFRESH_TOKEN_PATTERN);

export const invalidRefreshToken = () => new AppError(401, { refreshToken: ["is invalid"] });

export const hashRefreshToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** Create a refresh token in `sessionId`, in the caller's transaction; returns the only plaintext copy. */
export function issueRefreshToken(
  ctx: AppContext,
  tx: Tx,
  sessionId: string,
  sessionExpiresAt: number,
): string {
  const token = `rt_${randomBytes(32).toString("base64url")}`;
  const expiresAt = Math.min(ctx.clock.now() + ctx.config.REFRESH_TTL_SECONDS * 1000, sessionExpiresAt);
  tx.insert(refreshTokens)
    .values({ sessionId, tokenHash: hashRefreshToken(token), expiresAt })
    .run();
  return token;
}

export interface Rotated {
  userId: number;
  sessionId: string;
  /** The session's absolute expiry (epoch ms): no token issued for it may outlive this. */
  sessionExpiresAt: number;
  refreshToken: string;
}

/**
 * Exchange a refresh token for its successor. Throws 401 for anything but a current token of a live
 * session; a retired token ends its session (outside the grace period) before the 401.
 */
export function rotateRefreshToken(ctx: AppContext, token: string, meta: { ip?: string } = {}): Rotated {
  if (!format.test(token)) throw invalidRefreshToken();
  const hash = hashRefreshToken(token);
  const now = ctx.clock.now();
  const rotated = ctx.events.transact((tx, emit): Rotated | undefined => {
    const liveSessions = tx
      .select({ id: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(isNull(sessions.revokedAt), gt(sessions.expiresAt, now), eq(users.suspended, false)));
    const claimed = tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(refreshTokens.tokenHash, hash),
          isNull(refreshTokens.usedAt),
          gt(refreshTokens.expiresAt, now),
          inArray(refreshTokens.sessionId, liveSessions),
        ),
      )
      .returning({ sessionId: refreshTokens.sessionId })
      .all();
    const session = tx
      .select({
        id: sessions.id,
        userId: sessions.userId,
        expiresAt: sessions.expiresAt,
        usedAt: refreshTokens.usedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, hash))
      .get();
    if (claimed.length === 1 && session) {
      return {
        userId: session.userId,
        sessionId: session.id,
        sessionExpiresAt: session.expiresAt,
        refreshToken: issueRefreshToken(ctx, tx, session.id, session.expiresAt),
      };
    }
    const graceMs = ctx.config.REFRESH_REUSE_GRACE_SECONDS * 1000;
    const used = session?.usedAt;
    if (session && typeof used === "number" && !(graceMs > 0 && now - used < graceMs)) {
      const ended = endSession(ctx, session.id, "refresh-token-reuse", { tx, emit });
      recordAudit(
        ctx,
        {
          action: "refresh_token.reused",
          actorId: session.userId,
          targetType: "session",
          targetId: session.id,
          ip: meta.ip,
          detail: { sessionEnded: ended.length > 0 },
        },
        tx,
      );
    }
    return undefined;
  });
  if (!rotated) throw invalidRefreshToken();
  return rotated;
}

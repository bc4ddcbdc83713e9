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
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { WriteTx } from "../../store/store.ts";
import { recordAudit } from "../audit/service.ts";
import { endSessions } from "./service.ts";

export const REFRESH_TOKEN_PATTERN = "^rt_[A-Za-z0-9_-]{43}$";
const format = new RegExp(REFRESH_TOKEN_PATTERN);

export const invalidRefreshToken = () => new AppError(401, { refreshToken: ["is invalid"] });

export const hashRefreshToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** Create a refresh token in `sessionId`, in the caller's unit of work; returns the only plaintext copy. */
export async function issueRefreshToken(
  ctx: AppContext,
  tx: WriteTx,
  sessionId: string,
  sessionExpiresAt: number,
): Promise<string> {
  const token = `rt_${randomBytes(32).toString("base64url")}`;
  const now = ctx.clock.now();
  const expiresAt = Math.min(now + ctx.config.REFRESH_TTL_SECONDS * 1000, sessionExpiresAt);
  await tx.sessions.insertRefreshToken({ sessionId, tokenHash: hashRefreshToken(token), expiresAt, now });
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
export async function rotateRefreshToken(
  ctx: AppContext,
  token: string,
  meta: { ip?: string } = {},
): Promise<Rotated> {
  if (!format.test(token)) throw invalidRefreshToken();
  const hash = hashRefreshToken(token);
  const now = ctx.clock.now();
  const rotated = await ctx.store.write(async (tx): Promise<Rotated | undefined> => {
    const claimed = await tx.sessions.claimRefreshToken(hash, now);
    const state = await tx.sessions.refreshTokenState(hash);
    if (claimed !== undefined && state) {
      return {
        userId: state.userId,
        sessionId: state.sessionId,
        sessionExpiresAt: state.sessionExpiresAt,
        refreshToken: await issueRefreshToken(ctx, tx, state.sessionId, state.sessionExpiresAt),
      };
    }
    const graceMs = ctx.config.REFRESH_REUSE_GRACE_SECONDS * 1000;
    const used = state?.usedAt;
    if (state && typeof used === "number" && !(graceMs > 0 && now - used < graceMs)) {
      const ended = await endSessions(ctx, tx, { sid: state.sessionId }, "refresh-token-reuse");
      await recordAudit(ctx, tx, {
        action: "refresh_token.reused",
        actorId: state.userId,
        targetType: "session",
        targetId: state.sessionId,
        ip: meta.ip,
        detail: { sessionEnded: ended.length > 0 },
      });
    }
    return undefined;
  });
  if (!rotated) throw invalidRefreshToken();
  return rotated;
}

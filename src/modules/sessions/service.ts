/**
 * Server-side sessions. Token model (refresh tokens: ./refresh.ts):
 * - A login (or registration) creates a session: a random id, an absolute expiry (SESSION_TTL_SECONDS) and a
 *   first refresh token. Access tokens (JWTs, src/http/auth.ts) name the session in `sid`.
 * - Every authenticated request checks that its session is live (not ended, not expired, user not
 *   suspended) and reads the user's current role with it. The check is cached per session id for a few
 *   seconds; every write that ends a session or changes a role drops the entries it affects, so revocation
 *   and role changes apply on the very next request, never after the cache expires.
 * - Sessions end early on logout, logout-all, a password change (all but the session that made it),
 *   suspension and refresh-token reuse. Each emits `sessions.ended`, on which realtime closes sockets.
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull, ne, type SQL, sql } from "drizzle-orm";
import type { AppContext, Tx } from "../../context.ts";
import type { Role } from "../../db/schema.ts";
import { sessions, users } from "../../db/schema.ts";
import type { DomainEvent } from "../../events.ts";
import { perOwner } from "../../lib/memo.ts";
import { recordAudit } from "../audit/service.ts";
import { issueRefreshToken } from "./refresh.ts";

export interface SessionInfo {
  userId: number;
  role: Role;
}

export type EndReason = "logout" | "logout-all" | "password-change" | "suspended" | "refresh-token-reuse";
type Emit = (event: DomainEvent) => void;

const queries = perOwner((db: AppContext["db"]) => ({
  check: db
    .select({ userId: sessions.userId, role: users.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, sql.placeholder("sid")),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql.placeholder("now")),
        eq(users.suspended, false),
      ),
    )
    .prepare(),
  ofUser: db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, sql.placeholder("userId")), isNull(sessions.revokedAt)))
    .prepare(),
}));

export interface NewSession {
  id: string;
  expiresAt: number;
  /** The session's first refresh token, shown to the client once and stored only as a hash. */
  refreshToken: string;
}

/** Start a session for a user who just proved who they are, in the caller's transaction if given. */
export function createSession(ctx: AppContext, userId: number, tx?: Tx): NewSession {
  if (!tx) return ctx.db.transaction((t) => createSession(ctx, userId, t));
  const id = randomBytes(18).toString("base64url");
  const expiresAt = ctx.clock.now() + ctx.config.SESSION_TTL_SECONDS * 1000;
  tx.insert(sessions).values({ id, userId, expiresAt }).run();
  return { id, expiresAt, refreshToken: issueRefreshToken(ctx, tx, id, expiresAt) };
}

/** The live session's user and role, or undefined if it ended, expired, or its user is suspended. */
export function checkSession(ctx: AppContext, sid: string): SessionInfo | undefined {
  const cached = ctx.caches.sessions.get(sid);
  if (cached) return cached;
  const row = queries(ctx.db).check.get({ sid, now: ctx.clock.now() });
  if (row) ctx.caches.sessions.set(sid, row);
  return row;
}

/**
 * End the live sessions matching `where`, in the caller's transaction, emitting `sessions.ended` per user.
 * Cache entries go at once: a request that re-reads the row meanwhile sees it revoked (same connection).
 */
function endWhere(ctx: AppContext, tx: Tx, emit: Emit, where: SQL | undefined, reason: EndReason): string[] {
  const ended = tx
    .update(sessions)
    .set({ revokedAt: ctx.clock.now() })
    .where(and(isNull(sessions.revokedAt), where))
    .returning({ id: sessions.id, userId: sessions.userId })
    .all();
  const byUser = new Map<number, string[]>();
  for (const { id, userId } of ended) {
    ctx.caches.sessions.delete(id);
    byUser.set(userId, [...(byUser.get(userId) ?? []), id]);
  }
  for (const [userId, sessionIds] of byUser) emit({ type: "sessions.ended", userId, sessionIds, reason });
  return ended.map((e) => e.id);
}

/** End one session (logout, refresh-token reuse). */
export function endSession(ctx: AppContext, sid: string, reason: EndReason, inTx?: { tx: Tx; emit: Emit }) {
  if (inTx) return endWhere(ctx, inTx.tx, inTx.emit, eq(sessions.id, sid), reason);
  return ctx.events.transact((tx, emit) => endWhere(ctx, tx, emit, eq(sessions.id, sid), reason));
}

/**
 * End every live session of a user except `keep` (the session that changed the password), in the caller's
 * transaction when given (a password change or a suspension ends sessions atomically with the change).
 */
export function endUserSessions(
  ctx: AppContext,
  userId: number,
  reason: EndReason,
  options: { keep?: string; tx?: Tx; emit?: Emit } = {},
): string[] {
  const where = and(eq(sessions.userId, userId), options.keep ? ne(sessions.id, options.keep) : undefined);
  if (options.tx && options.emit) return endWhere(ctx, options.tx, options.emit, where, reason);
  return ctx.events.transact((tx, emit) => endWhere(ctx, tx, emit, where, reason));
}

/** Drop a user's cached session checks, so a role change applies on their next request. */
export function forgetUserSessions(ctx: AppContext, userId: number): void {
  for (const { id } of queries(ctx.db).ofUser.all({ userId })) ctx.caches.sessions.delete(id);
}

/** Sign out everywhere: every session of the account, the caller's included. */
export function logoutAll(ctx: AppContext, userId: number, meta: { ip?: string } = {}): void {
  ctx.events.transact((tx, emit) => {
    const ended = endWhere(ctx, tx, emit, eq(sessions.userId, userId), "logout-all");
    const audit = { action: "user.logout_all" as const, actorId: userId, targetType: "user" as const };
    recordAudit(ctx, { ...audit, targetId: userId, ip: meta.ip, detail: { sessions: ended.length } }, tx);
  });
}

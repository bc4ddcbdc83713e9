/**
 * Server-side sessions. Token model: an access token (short-lived JWT, HS256) names a session (`sid`); a
 * session lives until it expires or is ended (logout, password change, suspension). Every authenticated
 * request checks its session, so an ended session's token is refused on its very next request. The check is
 * cached per session id for a few seconds and the cache entry is dropped by every write that ends a session,
 * so revocation never waits for the cache to expire.
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import type { Role } from "../../db/schema.ts";
import { sessions, users } from "../../db/schema.ts";
import { perOwner } from "../../lib/memo.ts";

/** The database or a transaction on it: session changes often ride in the caller's transaction. */
type Executor = Pick<AppContext["db"], "update">;

export interface SessionInfo {
  userId: number;
  role: Role;
}

const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

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
  insert: db
    .insert(sessions)
    .values({
      id: sql.placeholder("id"),
      userId: sql.placeholder("userId"),
      expiresAt: sql.placeholder("expiresAt"),
    })
    .prepare(),
}));

export function createSession(ctx: AppContext, userId: number): { id: string; expiresAt: number } {
  const id = randomBytes(18).toString("base64url");
  const expiresAt = ctx.clock.now() + SESSION_TTL_MS;
  queries(ctx.db).insert.run({ id, userId, expiresAt });
  return { id, expiresAt };
}

/** The live session's user and role, or undefined if it ended, expired, or its user is suspended. */
export function checkSession(ctx: AppContext, sid: string): SessionInfo | undefined {
  const cached = ctx.caches.sessions.get(sid);
  if (cached) return cached;
  const row = queries(ctx.db).check.get({ sid, now: ctx.clock.now() });
  if (row) ctx.caches.sessions.set(sid, row);
  return row;
}

export function endSession(ctx: AppContext, sid: string): void {
  ctx.db.update(sessions).set({ revokedAt: ctx.clock.now() }).where(eq(sessions.id, sid)).run();
  ctx.caches.sessions.delete(sid);
}

/** End every live session of a user, except `keep` (the session that asked, for a password change). */
export function endUserSessions(ctx: AppContext, userId: number, keep?: string, tx: Executor = ctx.db): void {
  const ended = tx
    .update(sessions)
    .set({ revokedAt: ctx.clock.now() })
    .where(
      and(eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined),
    )
    .returning({ id: sessions.id })
    .all();
  for (const { id } of ended) ctx.caches.sessions.delete(id);
}

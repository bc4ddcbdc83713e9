/** Sessions and refresh tokens on Postgres (the token model is in src/modules/sessions). */
import { and, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import type { SessionsRepo } from "../../../store/accounts.ts";
import { refreshTokens, sessions, users } from "../schema.ts";
import { lazy, type PgDb, ph } from "./shared.ts";

export function pgSessions(db: PgDb): SessionsRepo {
  /** Sessions not ended, not expired, of users not suspended. */
  const live = db
    .select({ id: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(isNull(sessions.revokedAt), gt(sessions.expiresAt, ph("now")), eq(users.suspended, false)));
  const ended = { id: sessions.id, userId: sessions.userId };
  const q = lazy(() => ({
    insert: db
      .insert(sessions)
      .values({ id: ph("id"), userId: ph("userId"), expiresAt: ph("expiresAt"), createdAt: ph("now") })
      .prepare("session_insert"),
    check: db
      .select({
        userId: sessions.userId,
        role: users.role,
        emailVerified: sql<boolean>`${users.emailVerifiedAt} is not null`,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.id, ph("sid")),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, ph("now")),
          eq(users.suspended, false),
        ),
      )
      .prepare("session_check"),
    endOne: db
      .update(sessions)
      .set({ revokedAt: sql`${ph("now")}` })
      .where(and(isNull(sessions.revokedAt), eq(sessions.id, ph("sid"))))
      .returning(ended)
      .prepare("session_end_one"),
    endUser: db
      .update(sessions)
      .set({ revokedAt: sql`${ph("now")}` })
      .where(and(isNull(sessions.revokedAt), eq(sessions.userId, ph("userId")), ne(sessions.id, ph("keep"))))
      .returning(ended)
      .prepare("session_end_user"),
    openIds: db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, ph("userId")), isNull(sessions.revokedAt)))
      .orderBy(sessions.createdAt, sessions.id)
      .prepare("session_open_ids"),
    insertRefresh: db
      .insert(refreshTokens)
      .values({
        sessionId: ph("sessionId"),
        tokenHash: ph("tokenHash"),
        expiresAt: ph("expiresAt"),
        createdAt: ph("now"),
      })
      .prepare("refresh_insert"),
    /** One statement: of two concurrent claims the second finds used_at set (it waits for the first's row lock). */
    claim: db
      .update(refreshTokens)
      .set({ usedAt: sql`${ph("now")}` })
      .where(
        and(
          eq(refreshTokens.tokenHash, ph("hash")),
          isNull(refreshTokens.usedAt),
          gt(refreshTokens.expiresAt, ph("now")),
          inArray(refreshTokens.sessionId, live),
        ),
      )
      .returning({ sessionId: refreshTokens.sessionId })
      .prepare("refresh_claim"),
    state: db
      .select({
        sessionId: sessions.id,
        userId: sessions.userId,
        sessionExpiresAt: sessions.expiresAt,
        usedAt: refreshTokens.usedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, ph("hash")))
      .prepare("refresh_state"),
  }));
  return {
    async insert(session) {
      await q().insert.execute(session);
    },
    async check(sid, now) {
      const [row] = await q().check.execute({ sid, now });
      return row && { userId: row.userId, role: row.role, emailVerified: row.emailVerified === true };
    },
    async end(which, now) {
      if ("sid" in which) return q().endOne.execute({ sid: which.sid, now });
      // "" is never a session id: with no session to keep, every one of the user's goes.
      return q().endUser.execute({ userId: which.userId, keep: which.keep ?? "", now });
    },
    async openIdsOf(userId) {
      const rows = await q().openIds.execute({ userId });
      return rows.map((r) => r.id);
    },
    async insertRefreshToken(token) {
      await q().insertRefresh.execute(token);
    },
    async claimRefreshToken(hash, now) {
      const [row] = await q().claim.execute({ hash, now });
      return row?.sessionId;
    },
    async refreshTokenState(hash) {
      const [row] = await q().state.execute({ hash });
      return row;
    },
  };
}

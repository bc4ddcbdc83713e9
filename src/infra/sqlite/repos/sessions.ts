/** Sessions and refresh tokens on SQLite (the token model is in src/modules/sessions). */
import { and, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import type { SessionsRepo } from "../../../store/accounts.ts";
import type { SqliteDb } from "../client.ts";
import { refreshTokens, sessions, users } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

export function sqliteSessions(db: SqliteDb): SessionsRepo {
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
      .prepare(),
    check: db
      .select({
        userId: sessions.userId,
        role: users.role,
        emailVerified: sql<number>`${users.emailVerifiedAt} IS NOT NULL`,
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
      .prepare(),
    endOne: db
      .update(sessions)
      .set({ revokedAt: sql`${ph("now")}` })
      .where(and(isNull(sessions.revokedAt), eq(sessions.id, ph("sid"))))
      .returning(ended)
      .prepare(),
    endUser: db
      .update(sessions)
      .set({ revokedAt: sql`${ph("now")}` })
      .where(and(isNull(sessions.revokedAt), eq(sessions.userId, ph("userId")), ne(sessions.id, ph("keep"))))
      .returning(ended)
      .prepare(),
    openIds: db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, ph("userId")), isNull(sessions.revokedAt)))
      .prepare(),
    insertRefresh: db
      .insert(refreshTokens)
      .values({
        sessionId: ph("sessionId"),
        tokenHash: ph("tokenHash"),
        expiresAt: ph("expiresAt"),
        createdAt: ph("now"),
      })
      .prepare(),
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
      .prepare(),
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
      .prepare(),
  }));
  return {
    async insert(session) {
      q().insert.run({ ...session });
    },
    async check(sid, now) {
      const row = q().check.get({ sid, now });
      return row && { userId: row.userId, role: row.role, emailVerified: row.emailVerified === 1 };
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async end(which, now) {
      if ("sid" in which) return q().endOne.all({ sid: which.sid, now });
      // "" is never a session id: with no session to keep, every one of the user's goes.
      return q().endUser.all({ userId: which.userId, keep: which.keep ?? "", now });
    },
    async openIdsOf(userId) {
      return q()
        .openIds.all({ userId })
        .map((r) => r.id);
    },
    async insertRefreshToken(token) {
      q().insertRefresh.run({ ...token });
    },
    async claimRefreshToken(hash, now) {
      return q().claim.all({ hash, now })[0]?.sessionId;
    },
    async refreshTokenState(hash) {
      return q().state.get({ hash });
    },
  };
}

/**
 * Users on Postgres. Usernames and emails are unique under lower(x COLLATE "C"), which folds ASCII only, like
 * SQLite's lower() (the expression indexes users_username_lower_uq, users_email_lower_uq); every lookup spells
 * the same expression, so it matches the same way and uses the index.
 */
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { UserFilter, UserRow, UsersRepo } from "../../../store/accounts.ts";
import { UniqueViolation } from "../../../store/errors.ts";
import { deletedUsers, users } from "../schema.ts";
import { lazy, type PgDb, ph } from "./shared.ts";

const folded = (column: PgColumn) => sql`lower((${column} COLLATE "C"))`;
const sameAs = (column: PgColumn, name: string) =>
  sql`${folded(column)} = lower((${ph(name)}::text COLLATE "C"))`;

/** `q` is matched literally: LIKE wildcards in it are escaped (the pattern is lowered as on SQLite). */
const contains = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function filterOf(f: UserFilter): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (f.q) {
    const pattern = contains(f.q);
    where.push(
      sql`(${folded(users.username)} like ${pattern} escape '\\' or ${folded(users.email)} like ${pattern} escape '\\')`,
    );
  }
  if (f.role) where.push(eq(users.role, f.role));
  if (f.suspended !== undefined) where.push(eq(users.suspended, f.suspended));
  return and(...where);
}

export function pgUsers(db: PgDb): UsersRepo {
  const q = lazy(() => ({
    byId: db
      .select()
      .from(users)
      .where(eq(users.id, ph("id")))
      .prepare("user_by_id"),
    byEmail: db.select().from(users).where(sameAs(users.email, "email")).prepare("user_by_email"),
    byUsername: db.select().from(users).where(sameAs(users.username, "username")).prepare("user_by_username"),
    holding: db
      .select({ id: users.id, username: users.username, email: users.email })
      .from(users)
      .where(sql`${sameAs(users.username, "username")} or ${sameAs(users.email, "email")}`)
      .prepare("user_holding"),
    insert: db
      .insert(users)
      .values({
        username: ph("username"),
        email: ph("email"),
        passwordHash: ph("passwordHash"),
        role: ph("role"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      // A taken username or email inserts nothing (and does not abort the unit's transaction): see insert().
      .onConflictDoNothing()
      .returning()
      .prepare("user_insert"),
    markVerified: db
      .update(users)
      .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${ph("now")}::bigint)` })
      .where(and(eq(users.id, ph("id")), sameAs(users.email, "email")))
      .returning()
      .prepare("user_mark_verified"),
    delete: db
      .delete(users)
      .where(eq(users.id, ph("id")))
      .returning({ id: users.id })
      .prepare("user_delete"),
    remember: db
      .insert(deletedUsers)
      .values({ id: ph("id"), deletedAt: ph("now") })
      .onConflictDoNothing()
      .prepare("user_remember_deleted"),
    activeAdmins: db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, "admin"), eq(users.suspended, false)))
      .prepare("user_active_admins"),
  }));
  return {
    async byId(id) {
      const [row] = await q().byId.execute({ id });
      return row as UserRow | undefined;
    },
    async byEmail(email) {
      const [row] = await q().byEmail.execute({ email });
      return row as UserRow | undefined;
    },
    async byUsername(username) {
      const [row] = await q().byUsername.execute({ username });
      return row as UserRow | undefined;
    },
    async holding(username, email) {
      return q().holding.execute({ username, email });
    },
    async insert(user) {
      const [row] = await q().insert.execute({ ...user });
      if (row) return row as UserRow;
      // Which index refused it; the username's first, as both engines check it first (created first).
      const holders = await q().holding.execute({ username: user.username, email: user.email });
      const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
      const taken = holders.some((h) => fold(h.username) === fold(user.username));
      throw new UniqueViolation(taken ? "users_username_lower_uq" : "users_email_lower_uq");
    },
    async update(id, changes) {
      // The set of columns varies with the request (bio may be set to null), so this one is built per call.
      const [row] = await db.update(users).set(changes).where(eq(users.id, id)).returning();
      return row as UserRow | undefined;
    },
    async list(filter, page) {
      const rows = await db
        .select()
        .from(users)
        .where(filterOf(filter))
        .orderBy(asc(users.id))
        .limit(page.limit)
        .offset(page.offset);
      return rows as UserRow[];
    },
    async count(filter) {
      const [row] = await db.select({ n: count() }).from(users).where(filterOf(filter));
      return row?.n ?? 0;
    },
    async countActiveAdmins() {
      const [row] = await q().activeAdmins.execute();
      return row?.n ?? 0;
    },
    async markEmailVerified(id, email, now) {
      const [row] = await q().markVerified.execute({ id, email, now });
      return row as UserRow | undefined;
    },
    // Identity values are never handed out twice, so new ids cannot repeat a deleted one; the id is recorded
    // all the same, as on SQLite (the engines' tables hold the same facts).
    async delete(id, now) {
      const gone = await q().delete.execute({ id });
      if (gone.length === 0) return false;
      await q().remember.execute({ id, now });
      return true;
    },
  };
}

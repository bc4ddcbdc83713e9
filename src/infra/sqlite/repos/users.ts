/**
 * Users on SQLite. Usernames and emails are unique under lower(), which folds ASCII only (the expression
 * indexes users_username_lower_uq, users_email_lower_uq), and every lookup matches them the same way.
 *
 * Ids are never reused. The table is not AUTOINCREMENT (making it so means rebuilding it, and dropping the
 * old table inside the migrations' transaction would cascade-delete every article and session), so SQLite
 * would number a new row max(id) + 1 and hand a just-deleted newest id out again. A deletion records the id
 * in `deleted_users`, and a new account is numbered past the highest id of both tables (two O(1) lookups).
 */
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import type { UserFilter, UserRow, UsersRepo } from "../../../store/accounts.ts";
import type { SqliteDb } from "../client.ts";
import { deletedUsers, users } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

/** `q` is matched literally: LIKE wildcards in it are escaped. */
const contains = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function filterOf(f: UserFilter): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (f.q) {
    const pattern = contains(f.q);
    where.push(
      sql`(lower(${users.username}) like ${pattern} escape '\\' or lower(${users.email}) like ${pattern} escape '\\')`,
    );
  }
  if (f.role) where.push(eq(users.role, f.role));
  if (f.suspended !== undefined) where.push(eq(users.suspended, f.suspended));
  return and(...where);
}

export function sqliteUsers(db: SqliteDb): UsersRepo {
  const q = lazy(() => ({
    byId: db
      .select()
      .from(users)
      .where(eq(users.id, ph("id")))
      .prepare(),
    byEmail: db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = lower(${ph("email")})`)
      .prepare(),
    byUsername: db
      .select()
      .from(users)
      .where(sql`lower(${users.username}) = lower(${ph("username")})`)
      .prepare(),
    holding: db
      .select({ id: users.id, username: users.username, email: users.email })
      .from(users)
      .where(
        sql`lower(${users.username}) = lower(${ph("username")}) or lower(${users.email}) = lower(${ph("email")})`,
      )
      .prepare(),
    insert: db
      .insert(users)
      .values({
        id: sql`(SELECT max(coalesce((SELECT max(id) FROM users), 0), coalesce((SELECT max(id) FROM deleted_users), 0)) + 1)`,
        username: ph("username"),
        email: ph("email"),
        passwordHash: ph("passwordHash"),
        role: ph("role"),
        createdAt: ph("now"),
        updatedAt: ph("now"),
      })
      .returning()
      .prepare(),
    markVerified: db
      .update(users)
      .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${ph("now")})` })
      .where(and(eq(users.id, ph("id")), sql`lower(${users.email}) = lower(${ph("email")})`))
      .returning()
      .prepare(),
    remember: db
      .insert(deletedUsers)
      .values({ id: ph("id"), deletedAt: ph("now") })
      .onConflictDoNothing()
      .prepare(),
    delete: db
      .delete(users)
      .where(eq(users.id, ph("id")))
      .returning({ id: users.id })
      .prepare(),
    activeAdmins: db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, "admin"), eq(users.suspended, false)))
      .prepare(),
  }));
  return {
    async byId(id) {
      return q().byId.get({ id }) as UserRow | undefined;
    },
    async byEmail(email) {
      return q().byEmail.get({ email }) as UserRow | undefined;
    },
    async byUsername(username) {
      return q().byUsername.get({ username }) as UserRow | undefined;
    },
    async holding(username, email) {
      return q().holding.all({ username, email });
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async insert(user) {
      return q().insert.all({ ...user })[0] as UserRow;
    },
    async update(id, changes) {
      // The set of columns varies with the request (bio may be set to null), so this one is built per call.
      const [row] = db.update(users).set(changes).where(eq(users.id, id)).returning().all();
      return row as UserRow | undefined;
    },
    async list(filter, page) {
      return db
        .select()
        .from(users)
        .where(filterOf(filter))
        .orderBy(asc(users.id))
        .limit(page.limit)
        .offset(page.offset)
        .all() as UserRow[];
    },
    async count(filter) {
      return db.select({ n: count() }).from(users).where(filterOf(filter)).get()?.n ?? 0;
    },
    async countActiveAdmins() {
      return q().activeAdmins.get()?.n ?? 0;
    },
    async markEmailVerified(id, email, now) {
      return q().markVerified.all({ id, email, now })[0] as UserRow | undefined;
    },
    async delete(id, now) {
      const s = q();
      if (s.delete.all({ id }).length === 0) return false;
      s.remember.run({ id, now });
      return true;
    },
  };
}

/**
 * Account administration: list and search users, change a role, suspend or reinstate. Every change is
 * audited in its own transaction. Two invariants:
 * - A suspension ends the account's sessions in the same transaction (tokens refused on their next
 *   request) and login is refused while suspended (users/service.ts); a role change drops the account's
 *   cached session checks, so the new role applies on its next request.
 * - The instance never loses its last active admin: a change that would leave no unsuspended admin is
 *   refused (409) and rolled back, whoever makes it (an admin demoting or suspending themselves included).
 * - A password reset (the CLI's way back in for a locked-out admin) ends every session of the account in
 *   the same transaction, so whoever held one is signed out.
 */
import { and, asc, count, eq, type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { type Role, users } from "../../db/schema.ts";
import { AppError, notFound } from "../../errors.ts";
import { hashPassword } from "../../lib/password.ts";
import { recordAudit } from "../audit/service.ts";
import { endUserSessions, forgetUserSessions } from "../sessions/service.ts";
import { pageOf } from "../shared/model.ts";
import type { ChangeUserInput, UserListFilters } from "./model.ts";

type UserRow = typeof users.$inferSelect;

const toAdminUser = (u: UserRow) => ({
  username: u.username,
  email: u.email,
  bio: u.bio,
  image: u.image,
  role: u.role,
  suspended: u.suspended,
  createdAt: new Date(u.createdAt).toISOString(),
});

/** `q` is matched literally: LIKE wildcards in it are escaped. */
const contains = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function listUsers(ctx: AppContext, filters: UserListFilters) {
  const page = pageOf(filters);
  const where: (SQL | undefined)[] = [];
  if (filters.q) {
    const pattern = contains(filters.q);
    where.push(
      sql`(lower(${users.username}) like ${pattern} escape '\\' or lower(${users.email}) like ${pattern} escape '\\')`,
    );
  }
  if (filters.role) where.push(eq(users.role, filters.role));
  if (filters.suspended) where.push(eq(users.suspended, filters.suspended === "true"));
  const condition = and(...where);
  const rows = ctx.db
    .select()
    .from(users)
    .where(condition)
    .orderBy(asc(users.id))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  const [total] = ctx.db.select({ n: count() }).from(users).where(condition).all();
  return { users: rows.map(toAdminUser), usersCount: total?.n ?? 0 };
}

/** Every account, or those of one role, oldest first: for `quire admin list` (no paging, no secrets). */
export function listAccounts(ctx: AppContext, role?: Role) {
  const rows = ctx.db
    .select()
    .from(users)
    .where(role ? eq(users.role, role) : undefined)
    .orderBy(asc(users.id))
    .all();
  return rows.map(toAdminUser);
}

function findByUsername(ctx: AppContext, username: string): UserRow {
  const row = ctx.db.select().from(users).where(sql`lower(${users.username}) = lower(${username})`).get();
  if (!row) throw notFound("user");
  return row;
}

const activeAdmins = (tx: Pick<AppContext["db"], "select">) =>
  tx
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, "admin"), eq(users.suspended, false)))
    .get()?.n ?? 0;

export function changeUser(
  ctx: AppContext,
  /** null: the CLI (`quire admin promote`). */
  actor: { id: number } | null,
  username: string,
  input: ChangeUserInput,
  meta: { ip?: string } = {},
) {
  const target = findByUsername(ctx, username);
  const role: Role | undefined =
    input.role !== undefined && input.role !== target.role ? input.role : undefined;
  const suspended =
    input.suspended !== undefined && input.suspended !== target.suspended ? input.suspended : undefined;
  if (role === undefined && suspended === undefined) return { user: toAdminUser(target) };

  const audit = { actorId: actor?.id ?? null, targetType: "user" as const, targetId: target.id, ip: meta.ip };
  const updated = ctx.events.transact((tx, emit) => {
    const [row] = tx
      .update(users)
      .set({
        ...(role && { role }),
        ...(suspended !== undefined && { suspended }),
        updatedAt: ctx.clock.now(),
      })
      .where(eq(users.id, target.id))
      .returning()
      .all();
    // Checked after the write, inside the transaction: the count and the change cannot disagree.
    if (target.role === "admin" && !target.suspended && activeAdmins(tx) === 0) {
      throw new AppError(409, { [role ? "role" : "suspended"]: ["would leave no active admin"] });
    }
    if (role) {
      recordAudit(
        ctx,
        { action: "user.role_changed", ...audit, detail: { from: target.role, to: role } },
        tx,
      );
    }
    if (suspended === true) {
      const ended = endUserSessions(ctx, target.id, "suspended", { tx, emit });
      recordAudit(ctx, { action: "user.suspended", ...audit, detail: { sessionsEnded: ended.length } }, tx);
    }
    if (suspended === false) recordAudit(ctx, { action: "user.unsuspended", ...audit }, tx);
    return row!;
  });
  if (role) forgetUserSessions(ctx, target.id);
  return { user: toAdminUser(updated) };
}

/** Set a new password for `username` and end all of its sessions, audited. */
export async function resetPassword(
  ctx: AppContext,
  /** null: the CLI (`quire admin reset-password`). */
  actor: { id: number } | null,
  username: string,
  password: string,
) {
  const target = findByUsername(ctx, username);
  const passwordHash = await hashPassword(password, {
    memoryCost: ctx.config.PASSWORD_MEMORY_COST_KIB,
    timeCost: ctx.config.PASSWORD_TIME_COST,
  });
  const ended = ctx.events.transact((tx, emit) => {
    tx.update(users).set({ passwordHash, updatedAt: ctx.clock.now() }).where(eq(users.id, target.id)).run();
    const ended = endUserSessions(ctx, target.id, "password-change", { tx, emit });
    recordAudit(
      ctx,
      {
        action: "user.password_reset",
        actorId: actor?.id ?? null,
        targetType: "user",
        targetId: target.id,
        detail: { via: actor ? "api" : "cli", sessionsEnded: ended.length },
      },
      tx,
    );
    return ended;
  });
  return { user: toAdminUser(target), sessionsEnded: ended.length };
}

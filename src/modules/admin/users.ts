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
import type { AppContext } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";
import { pageOf } from "../../lib/paging.ts";
import type { Role } from "../../policy.ts";
import type { UserFilter, UserRow } from "../../store/accounts.ts";
import { recordAudit } from "../audit/service.ts";
import { endSessions } from "../sessions/service.ts";
import type { ChangeUserInput, UserListFilters } from "./model.ts";

const toAdminUser = (u: UserRow) => ({
  username: u.username,
  email: u.email,
  bio: u.bio,
  image: u.image,
  role: u.role,
  suspended: u.suspended,
  emailVerified: u.emailVerifiedAt !== null,
  createdAt: new Date(u.createdAt).toISOString(),
});

export async function listUsers(ctx: AppContext, filters: UserListFilters) {
  const page = pageOf(filters);
  const filter: UserFilter = {
    ...(filters.q && { q: filters.q }),
    ...(filters.role && { role: filters.role }),
    ...(filters.suspended && { suspended: filters.suspended === "true" }),
  };
  const [rows, total] = await Promise.all([
    ctx.store.read.users.list(filter, page),
    ctx.store.read.users.count(filter),
  ]);
  return { users: rows.map(toAdminUser), usersCount: total };
}

/** Every account, or those of one role, oldest first: for `quire admin list` (no paging, no secrets). */
export async function listAccounts(ctx: AppContext, role?: Role) {
  const filter: UserFilter = role ? { role } : {};
  const total = await ctx.store.read.users.count(filter);
  const rows = await ctx.store.read.users.list(filter, { limit: Math.max(total, 1), offset: 0 });
  return rows.map(toAdminUser);
}

async function findByUsername(ctx: AppContext, username: string): Promise<UserRow> {
  const row = await ctx.store.read.users.byUsername(username);
  if (!row) throw notFound("user");
  return row;
}

export async function changeUser(
  ctx: AppContext,
  /** null: the CLI (`quire admin promote`). */
  actor: { id: number } | null,
  username: string,
  input: ChangeUserInput,
  meta: { ip?: string } = {},
) {
  const target = await findByUsername(ctx, username);
  const role: Role | undefined =
    input.role !== undefined && input.role !== target.role ? input.role : undefined;
  const suspended =
    input.suspended !== undefined && input.suspended !== target.suspended ? input.suspended : undefined;
  if (role === undefined && suspended === undefined) return { user: toAdminUser(target) };

  const audit = { actorId: actor?.id ?? null, targetType: "user" as const, targetId: target.id, ip: meta.ip };
  const updated = await ctx.store.write(async (tx) => {
    const row = await tx.users.update(target.id, {
      ...(role && { role }),
      ...(suspended !== undefined && { suspended }),
      updatedAt: ctx.clock.now(),
    });
    if (!row) throw notFound("user");
    // Checked after the write, inside the unit: the count and the change cannot disagree.
    if (target.role === "admin" && !target.suspended && (await tx.users.countActiveAdmins()) === 0) {
      throw new AppError(409, { [role ? "role" : "suspended"]: ["would leave no active admin"] });
    }
    if (role) {
      await recordAudit(ctx, tx, {
        action: "user.role_changed",
        ...audit,
        detail: { from: target.role, to: role },
      });
      await tx.emit({ type: "user.role_changed", userId: target.id, role });
    }
    if (suspended === true) {
      const ended = await endSessions(ctx, tx, { userId: target.id }, "suspended");
      await recordAudit(ctx, tx, {
        action: "user.suspended",
        ...audit,
        detail: { sessionsEnded: ended.length },
      });
    }
    if (suspended === false) await recordAudit(ctx, tx, { action: "user.unsuspended", ...audit });
    return row;
  });
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
  const target = await findByUsername(ctx, username);
  const passwordHash = await ctx.passwords.hash(password);
  const ended = await ctx.store.write(async (tx) => {
    await tx.users.update(target.id, { passwordHash, updatedAt: ctx.clock.now() });
    const ended = await endSessions(ctx, tx, { userId: target.id }, "password-change");
    await recordAudit(ctx, tx, {
      action: "user.password_reset",
      actorId: actor?.id ?? null,
      targetType: "user",
      targetId: target.id,
      detail: { via: actor ? "api" : "cli", sessionsEnded: ended.length },
    });
    return ended;
  });
  return { user: toAdminUser(target), sessionsEnded: ended.length };
}

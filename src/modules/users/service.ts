/**
 * Accounts: registration, login, the current user and its updates. Framework-free: the same functions serve
 * HTTP, the CLI (`quire admin create`) and tests.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../context.ts";
import { AppError, conflict, invalid } from "../../errors.ts";
import { assertMayWrite, type Role } from "../../policy.ts";
import type { UserChanges, UserRow } from "../../store/accounts.ts";
import { onConstraint } from "../../store/errors.ts";
import type { WriteTx } from "../../store/store.ts";
import { recordAudit, recordAuditNow } from "../audit/service.ts";
import { createSession, endSessions, invalidRefreshToken, rotateRefreshToken } from "../sessions/service.ts";
import type { LoginInput, RegisterInput, UpdateUserInput } from "./model.ts";

export type { UserRow };
/** Signs an access token for (userId, sessionId): supplied by the HTTP layer. */
/** Signs an access token for a session; it never outlives the session (`expiresAt`, epoch ms). */
export type IssueToken = (userId: number, session: { id: string; expiresAt: number }) => Promise<string>;

export const toUser = (u: UserRow, token: string, refreshToken?: string) => ({
  email: u.email,
  token,
  username: u.username,
  bio: u.bio,
  image: u.image,
  emailVerified: u.emailVerifiedAt !== null,
  ...(refreshToken !== undefined && { refreshToken }),
});

/** Where a request came from, for the audit log. */
export interface RequestMeta {
  ip?: string;
}

/**
 * Map a unique violation on users to 409s naming every field that is taken (asking the database which,
 * after the fact: the constraint, not a pre-check, is what decides).
 */
async function takenFields(
  ctx: AppContext,
  err: unknown,
  username: string,
  email: string,
  selfId?: number,
): Promise<never> {
  const taken = async () => {
    const fields: Record<string, string[]> = {};
    for (const row of await ctx.store.read.users.holding(username, email)) {
      if (row.id === selfId) continue;
      if (row.username.toLowerCase() === username.toLowerCase()) fields.username = ["has already been taken"];
      if (row.email.toLowerCase() === email.toLowerCase()) fields.email = ["has already been taken"];
    }
    return Object.keys(fields).length > 0 ? new AppError(409, fields) : conflict("user");
  };
  throw await onConstraint(err, { users_username_lower_uq: taken, users_email_lower_uq: taken });
}

/** Insert the account in the caller's unit of work (the password already hashed: units do no hashing). */
async function insertUser(
  ctx: AppContext,
  tx: WriteTx,
  input: RegisterInput,
  passwordHash: string,
  role?: Role,
) {
  const row = await tx.users.insert({
    username: input.username,
    email: input.email,
    passwordHash,
    role: role ?? ctx.config.DEFAULT_ROLE,
    now: ctx.clock.now(),
  });
  await tx.emit({ type: "user.created", userId: row.id, username: row.username, email: row.email });
  return row;
}

/** An account without a session (the CLI's `quire admin create`). */
export async function createUser(ctx: AppContext, input: RegisterInput, role?: Role): Promise<UserRow> {
  const passwordHash = await ctx.passwords.hash(input.password);
  try {
    return await ctx.store.write((tx) => insertUser(ctx, tx, input, passwordHash, role));
  } catch (err) {
    return takenFields(ctx, err, input.username, input.email);
  }
}

/** Registration: the account and its first session in one unit of work. */
export async function registerUser(ctx: AppContext, input: RegisterInput, issueToken: IssueToken) {
  const passwordHash = await ctx.passwords.hash(input.password);
  let created: { user: UserRow; session: Awaited<ReturnType<typeof createSession>> };
  try {
    created = await ctx.store.write(async (tx) => {
      const user = await insertUser(ctx, tx, input, passwordHash);
      return { user, session: await createSession(ctx, tx, user.id) };
    });
  } catch (err) {
    return takenFields(ctx, err, input.username, input.email);
  }
  const { user, session } = created;
  return { user: toUser(user, await issueToken(user.id, session), session.refreshToken) };
}

export async function loginUser(
  ctx: AppContext,
  input: LoginInput,
  issueToken: IssueToken,
  meta: RequestMeta = {},
) {
  const user = await ctx.store.read.users.byEmail(input.email);
  const ok = await ctx.passwords.verify(input.password, user?.passwordHash);
  // One answer for unknown email, wrong password and suspended account: nothing to enumerate. The audit
  // log (admins only) says which it was; never the password, and never what was typed as an unknown email
  // (people type their password there): a short hash of it, enough to see one address tried many times.
  if (!user || !ok || user.suspended) {
    const reason = !user ? "unknown-email" : !ok ? "wrong-password" : "suspended";
    const target = user ? { targetType: "user" as const, targetId: user.id } : {};
    const attempted = user
      ? {}
      : { emailHash: createHash("sha256").update(input.email.toLowerCase()).digest("hex").slice(0, 16) };
    await recordAuditNow(ctx, {
      action: "user.login_failed",
      actorId: user?.id ?? null,
      ...target,
      ip: meta.ip,
      detail: { reason, ...attempted },
    });
    throw new AppError(401, { credentials: ["invalid"] });
  }
  const session = await ctx.store.write(async (tx) => {
    await recordAudit(ctx, tx, {
      action: "user.login",
      actorId: user.id,
      targetType: "user",
      targetId: user.id,
      ip: meta.ip,
    });
    return createSession(ctx, tx, user.id);
  });
  return { user: toUser(user, await issueToken(user.id, session), session.refreshToken) };
}

/** Rotate a refresh token (see src/modules/sessions/refresh.ts) and answer like login. */
export async function refreshUser(
  ctx: AppContext,
  refreshToken: string,
  issueToken: IssueToken,
  meta: RequestMeta = {},
) {
  const rotated = await rotateRefreshToken(ctx, refreshToken, meta);
  const user = await findUser(ctx, rotated.userId);
  if (!user) throw invalidRefreshToken();
  return {
    user: toUser(
      user,
      await issueToken(user.id, { id: rotated.sessionId, expiresAt: rotated.sessionExpiresAt }),
      rotated.refreshToken,
    ),
  };
}

export function findUser(ctx: AppContext, id: number): Promise<UserRow | undefined> {
  return ctx.store.read.users.byId(id);
}

export async function getCurrentUser(ctx: AppContext, viewer: { id: number; token: string }) {
  const user = await findUser(ctx, viewer.id);
  if (!user) throw new AppError(401, { token: ["is invalid"] });
  return { user: toUser(user, viewer.token) };
}

/** `""` clears an optional field; an image must be an http(s) URL. */
function normaliseImage(image: string | null | undefined): string | null | undefined {
  if (image === undefined || image === null || image.trim() === "")
    return image === undefined ? undefined : null;
  const url = URL.canParse(image) ? new URL(image) : undefined;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    throw invalid("image", "must be an http(s) URL");
  return image;
}

/**
 * Partial update of the signed-in account. With REQUIRE_VERIFIED_EMAIL_TO_WRITE, an unverified account may
 * still change its address and password (how it recovers from a mistyped address), not its public profile
 * (username, bio, image). A new address (not just a change of case) is unverified until a link sent to it is
 * followed: the outbox sends one, and a notice to the old address.
 */
export async function updateUser(
  ctx: AppContext,
  viewer: { id: number; sessionId: string; token: string; emailVerified: boolean },
  input: UpdateUserInput,
) {
  const profile = input.username !== undefined || input.bio !== undefined || input.image !== undefined;
  if (profile) assertMayWrite(viewer, ctx.config.REQUIRE_VERIFIED_EMAIL_TO_WRITE);
  const current = await findUser(ctx, viewer.id);
  if (!current) throw new AppError(401, { token: ["is invalid"] });
  const changes: Omit<UserChanges, "updatedAt"> = {};
  if (input.username !== undefined) changes.username = input.username;
  if (input.email !== undefined) {
    changes.email = input.email;
    if (input.email.toLowerCase() !== current.email.toLowerCase()) changes.emailVerifiedAt = null;
  }
  if (input.bio !== undefined) changes.bio = input.bio === null || input.bio.trim() === "" ? null : input.bio;
  const image = normaliseImage(input.image);
  if (image !== undefined) changes.image = image;
  // Hashed before the unit of work: a unit only does store work.
  if (input.password !== undefined) changes.passwordHash = await ctx.passwords.hash(input.password);
  if (Object.keys(changes).length === 0) return { user: toUser(current, viewer.token) };

  let updated: UserRow;
  try {
    updated = await ctx.store.write(async (tx) => {
      const row = await tx.users.update(viewer.id, { ...changes, updatedAt: ctx.clock.now() });
      if (!row) throw new AppError(401, { token: ["is invalid"] });
      // A password change ends every other session: whoever knew the old password is signed out. Reset
      // links sent before it stop working too.
      if (changes.passwordHash) {
        await endSessions(ctx, tx, { userId: viewer.id, keep: viewer.sessionId }, "password-change");
        await tx.accountTokens.retire(viewer.id, "password-reset", ctx.clock.now());
        await recordAudit(ctx, tx, {
          action: "user.password_changed",
          actorId: viewer.id,
          targetType: "user",
          targetId: viewer.id,
        });
      }
      await tx.emit({
        type: "user.updated",
        userId: row.id,
        username: row.username,
        previousUsername: current.username,
        email: row.email,
        previousEmail: current.email,
        passwordChanged: changes.passwordHash !== undefined,
      });
      return row;
    });
  } catch (err) {
    return takenFields(ctx, err, input.username ?? "", input.email ?? "", viewer.id);
  }
  return { user: toUser(updated, viewer.token) };
}

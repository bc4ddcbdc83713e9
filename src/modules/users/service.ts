/**
 * Accounts: registration, login, the current user and its updates. Framework-free: the same functions serve
 * HTTP, the CLI (`quire admin create`) and tests.
 */
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { type Role, users } from "../../db/schema.ts";
import { AppError, conflict, invalid, uniqueViolation } from "../../errors.ts";
import { perOwner } from "../../lib/memo.ts";
import { hashPassword, type PasswordCost, verifyPassword } from "../../lib/password.ts";
import { recordAudit } from "../audit/service.ts";
import { invalidRefreshToken, rotateRefreshToken } from "../sessions/refresh.ts";
import { createSession, endUserSessions } from "../sessions/service.ts";
import type { LoginInput, RegisterInput, UpdateUserInput } from "./model.ts";

export type UserRow = typeof users.$inferSelect;
/** Signs an access token for (userId, sessionId): supplied by the HTTP layer. */
/** Signs an access token for a session; it never outlives the session (`expiresAt`, epoch ms). */
export type IssueToken = (userId: number, session: { id: string; expiresAt: number }) => Promise<string>;

export const toUser = (u: UserRow, token: string, refreshToken?: string) => ({
  email: u.email,
  token,
  username: u.username,
  bio: u.bio,
  image: u.image,
  ...(refreshToken !== undefined && { refreshToken }),
});

/** Where a request came from, for the audit log. */
export interface RequestMeta {
  ip?: string;
}

const queries = perOwner((db: AppContext["db"]) => ({
  byId: db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder("id")))
    .prepare(),
  byEmail: db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${sql.placeholder("email")})`)
    .prepare(),
  taken: db
    .select({ id: users.id, username: users.username, email: users.email })
    .from(users)
    .where(
      sql`lower(${users.username}) = lower(${sql.placeholder("username")}) or lower(${users.email}) = lower(${sql.placeholder("email")})`,
    )
    .prepare(),
}));

const cost = (ctx: AppContext): PasswordCost => ({
  memoryCost: ctx.config.PASSWORD_MEMORY_COST_KIB,
  timeCost: ctx.config.PASSWORD_TIME_COST,
});

/** A hash to verify against when the email is unknown, so both failures take the same time. */
const decoyHash = perOwner((ctx: AppContext) => hashPassword("decoy-password-never-matches", cost(ctx)));

/**
 * Map a unique violation on users to 409s naming every field that is taken (asking the database which,
 * after the fact: the constraint, not a pre-check, is what decides).
 */
function takenFields(ctx: AppContext, err: unknown, username: string, email: string, selfId?: number): never {
  if (!uniqueViolation(err)) throw err;
  const fields: Record<string, string[]> = {};
  for (const row of queries(ctx.db).taken.all({ username, email })) {
    if (row.id === selfId) continue;
    if (row.username.toLowerCase() === username.toLowerCase()) fields.username = ["has already been taken"];
    if (row.email.toLowerCase() === email.toLowerCase()) fields.email = ["has already been taken"];
  }
  throw Object.keys(fields).length > 0 ? new AppError(409, fields) : conflict("user");
}

export async function createUser(ctx: AppContext, input: RegisterInput, role?: Role): Promise<UserRow> {
  const passwordHash = await hashPassword(input.password, cost(ctx));
  try {
    return ctx.events.transact((tx, emit) => {
      const [row] = tx
        .insert(users)
        .values({
          username: input.username,
          email: input.email,
          passwordHash,
          role: role ?? ctx.config.DEFAULT_ROLE,
        })
        .returning()
        .all();
      emit({ type: "user.created", userId: row!.id, username: row!.username, email: row!.email });
      return row!;
    });
  } catch (err) {
    takenFields(ctx, err, input.username, input.email);
  }
}

export async function registerUser(ctx: AppContext, input: RegisterInput, issueToken: IssueToken) {
  const user = await createUser(ctx, input);
  const session = createSession(ctx, user.id);
  return { user: toUser(user, await issueToken(user.id, session), session.refreshToken) };
}

export async function loginUser(
  ctx: AppContext,
  input: LoginInput,
  issueToken: IssueToken,
  meta: RequestMeta = {},
) {
  const user = queries(ctx.db).byEmail.get({ email: input.email });
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash(ctx)));
  // One answer for unknown email, wrong password and suspended account: nothing to enumerate. The audit
  // log (admins only) says which it was; never the password, and never what was typed as an unknown email
  // (people type their password there): a short hash of it, enough to see one address tried many times.
  if (!user || !ok || user.suspended) {
    const reason = !user ? "unknown-email" : !ok ? "wrong-password" : "suspended";
    const target = user ? { targetType: "user" as const, targetId: user.id } : {};
    const attempted = user
      ? {}
      : { emailHash: createHash("sha256").update(input.email.toLowerCase()).digest("hex").slice(0, 16) };
    recordAudit(ctx, {
      action: "user.login_failed",
      actorId: user?.id ?? null,
      ...target,
      ip: meta.ip,
      detail: { reason, ...attempted },
    });
    throw new AppError(401, { credentials: ["invalid"] });
  }
  const session = ctx.db.transaction((tx) => {
    recordAudit(
      ctx,
      { action: "user.login", actorId: user.id, targetType: "user", targetId: user.id, ip: meta.ip },
      tx,
    );
    return createSession(ctx, user.id, tx);
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
  const rotated = rotateRefreshToken(ctx, refreshToken, meta);
  const user = findUser(ctx, rotated.userId);
  if (!user) throw invalidRefreshToken();
  return {
    user: toUser(
      user,
      await issueToken(user.id, { id: rotated.sessionId, expiresAt: rotated.sessionExpiresAt }),
      rotated.refreshToken,
    ),
  };
}

export function findUser(ctx: AppContext, id: number): UserRow | undefined {
  return queries(ctx.db).byId.get({ id });
}

export function getCurrentUser(ctx: AppContext, viewer: { id: number; token: string }) {
  const user = findUser(ctx, viewer.id);
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

export async function updateUser(
  ctx: AppContext,
  viewer: { id: number; sessionId: string; token: string },
  input: UpdateUserInput,
) {
  const current = findUser(ctx, viewer.id);
  if (!current) throw new AppError(401, { token: ["is invalid"] });
  const changes: Partial<typeof users.$inferInsert> = {};
  if (input.username !== undefined) changes.username = input.username;
  if (input.email !== undefined) changes.email = input.email;
  if (input.bio !== undefined) changes.bio = input.bio === null || input.bio.trim() === "" ? null : input.bio;
  const image = normaliseImage(input.image);
  if (image !== undefined) changes.image = image;
  if (input.password !== undefined) changes.passwordHash = await hashPassword(input.password, cost(ctx));
  if (Object.keys(changes).length === 0) return { user: toUser(current, viewer.token) };

  let updated: UserRow;
  try {
    updated = ctx.events.transact((tx, emit) => {
      const [row] = tx
        .update(users)
        .set({ ...changes, updatedAt: ctx.clock.now() })
        .where(eq(users.id, viewer.id))
        .returning()
        .all();
      // A password change ends every other session: whoever knew the old password is signed out.
      if (changes.passwordHash) {
        endUserSessions(ctx, viewer.id, "password-change", { keep: viewer.sessionId, tx, emit });
        recordAudit(
          ctx,
          { action: "user.password_changed", actorId: viewer.id, targetType: "user", targetId: viewer.id },
          tx,
        );
      }
      emit({
        type: "user.updated",
        userId: row!.id,
        username: row!.username,
        previousUsername: current.username,
        email: row!.email,
        previousEmail: current.email,
        passwordChanged: changes.passwordHash !== undefined,
      });
      return row!;
    });
  } catch (err) {
    takenFields(ctx, err, input.username ?? "", input.email ?? "", viewer.id);
  }
  return { user: toUser(updated, viewer.token) };
}

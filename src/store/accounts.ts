/** Repositories of accounts: users, sessions with their refresh tokens, the audit log. */
import type { Role } from "../policy.ts";

export interface UserRow {
  id: number;
  username: string;
  email: string;
  passwordHash: string;
  bio: string | null;
  image: string | null;
  role: Role;
  suspended: boolean;
  /** When the current address was verified; null while it is not. */
  emailVerifiedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  role: Role;
  now: number;
}

export interface UserChanges {
  username?: string;
  email?: string;
  passwordHash?: string;
  bio?: string | null;
  image?: string | null;
  role?: Role;
  suspended?: boolean;
  /** null: the address is not (or no longer) verified. */
  emailVerifiedAt?: number | null;
  updatedAt: number;
}

export interface UserFilter {
  /** Matched literally (no wildcards) against username and email, case-insensitively. */
  q?: string;
  role?: Role;
  suspended?: boolean;
}

export interface UsersRepo {
  byId(id: number): Promise<UserRow | undefined>;
  /** ASCII case-insensitive, like the unique index. */
  byEmail(email: string): Promise<UserRow | undefined>;
  /** ASCII case-insensitive, like the unique index. */
  byUsername(username: string): Promise<UserRow | undefined>;
  /** Users holding this username or this email (case-insensitively): who a unique violation was about. */
  holding(username: string, email: string): Promise<Pick<UserRow, "id" | "username" | "email">[]>;
  /**
   * Throws UniqueViolation("users_username_lower_uq" | "users_email_lower_uq"). The new id is one no
   * account ever had, deleted ones included (see `delete`): ids are never reused.
   */
  insert(user: NewUser): Promise<UserRow>;
  /** The row after the change; undefined if there is no such user. Same violations as insert. */
  update(id: number, changes: UserChanges): Promise<UserRow | undefined>;
  /** Oldest first. */
  list(filter: UserFilter, page: { limit: number; offset: number }): Promise<UserRow[]>;
  count(filter: UserFilter): Promise<number>;
  /** Admins who are not suspended. */
  countActiveAdmins(): Promise<number>;
  /**
   * Mark the address verified, in one statement, only while `email` (compared ASCII case-insensitively) is
   * still the account's address: a token sent to an old address never verifies a new one. Keeps the first
   * verification time. The row after the change; undefined when there is no such user or the address differs.
   */
  markEmailVerified(id: number, email: string, now: number): Promise<UserRow | undefined>;
  /**
   * Delete the account's row and, through the foreign keys (ON DELETE CASCADE), everything hanging off it:
   * sessions and their refresh tokens, account tokens, follows both ways, their articles (with those
   * articles' comments, favourites, tag links, former slugs and search entries), their comments and their
   * favourites (favourite counts are the caller's to correct first: see AccountDataRepo). Audit entries they
   * made keep their row with `actor_id` set to null. Records the id as deleted so that it is never given to a
   * new account. False when there was no such user.
   */
  delete(id: number, now: number): Promise<boolean>;
}

export interface SessionCheck {
  userId: number;
  role: Role;
  /** Whether the user's current address is verified (REQUIRE_VERIFIED_EMAIL_TO_WRITE). */
  emailVerified: boolean;
}

export interface EndedSession {
  id: string;
  userId: number;
}

export interface RefreshTokenState {
  sessionId: string;
  userId: number;
  sessionExpiresAt: number;
  usedAt: number | null;
}

export interface SessionsRepo {
  insert(session: { id: string; userId: number; expiresAt: number; now: number }): Promise<void>;
  /** The user, role and verification of a live session (not ended, not expired, user not suspended). */
  check(sid: string, now: number): Promise<SessionCheck | undefined>;
  /**
   * End live sessions: one (`sid`), or every one of a user (`userId`, all but `keep`). Returns those that
   * were live and are now ended.
   */
  end(which: { sid: string } | { userId: number; keep?: string }, now: number): Promise<EndedSession[]>;
  /** Ids of a user's sessions that have not been ended (expired ones included). */
  openIdsOf(userId: number): Promise<string[]>;
  insertRefreshToken(token: {
    sessionId: string;
    tokenHash: string;
    expiresAt: number;
    now: number;
  }): Promise<void>;
  /**
   * Retire a current refresh token in one statement: unused, unexpired, of a live session. Returns the
   * session id when this call retired it (of two concurrent calls exactly one does).
   */
  claimRefreshToken(tokenHash: string, now: number): Promise<string | undefined>;
  /** The token's session, whoever holds it, used or not. */
  refreshTokenState(tokenHash: string): Promise<RefreshTokenState | undefined>;
}

export interface AuditInsert {
  at: number;
  action: string;
  actorId: number | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  /** JSON text. */
  detail: string | null;
}

export interface AuditFilter {
  action?: string;
  actorId?: number;
  since?: number;
  until?: number;
}

export interface AuditRow {
  id: number;
  at: number;
  action: string;
  /** The actor's username (null: anonymous, the CLI, or a deleted user). */
  actor: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  detail: string | null;
}

export interface AuditRepo {
  insert(entry: AuditInsert): Promise<void>;
  /**
   * Drop the client addresses (`ip` set to null) of every entry the user made, and of those about them
   * (`target_type = 'user'`, `target_id` their id) made anonymously (a failed login, a reset request); keep
   * the entries, and the addresses of what others (admins) did to them: what happened stays on record, where
   * the user was does not. Returns how many entries changed.
   */
  forgetAddressesOf(userId: number): Promise<number>;
  /** Newest first. */
  list(filter: AuditFilter, page: { limit: number; offset: number }): Promise<AuditRow[]>;
  count(filter: AuditFilter): Promise<number>;
}

/**
 * The database schema. drizzle-kit generates the migrations in drizzle/ from this file
 * (`bun run db:generate`); never edit a generated migration, add a new one.
 *
 * Conventions: plural snake_case tables, camelCase columns in TypeScript, unambiguous join columns,
 * timestamps as integer milliseconds since the epoch. Uniqueness lives in the database (never
 * check-then-insert): usernames and emails are unique case-insensitively through expression indexes.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () =>
  integer("created_at", { mode: "number" })
    .notNull()
    .default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);
const updatedAt = () =>
  integer("updated_at", { mode: "number" })
    .notNull()
    .default(sql`(cast(unixepoch('subsec') * 1000 as integer))`);

export { type Role, roles } from "../../policy.ts";

import { roles } from "../../policy.ts";

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey(),
    username: text("username").notNull(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    bio: text("bio"),
    image: text("image"),
    role: text("role", { enum: roles }).notNull().default("editor"),
    suspended: integer("suspended", { mode: "boolean" }).notNull().default(false),
    /**
     * When the current address was verified (a link sent to it was followed); null: not verified. Changing
     * the address clears it. Accounts from before verification existed start null: nobody had proved them.
     */
    emailVerifiedAt: integer("email_verified_at", { mode: "number" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_username_lower_uq").on(sql`lower(${t.username})`),
    uniqueIndex("users_email_lower_uq").on(sql`lower(${t.email})`),
    // Admins are few: counting the active ones (the last-admin rule) and listing by role need not scan.
    index("users_role_idx").on(t.role, t.suspended),
  ],
);

/**
 * Server-side sessions: every access token names one (`sid`), so a session can be ended before its
 * tokens expire. See src/modules/users/tokens.ts for the token model.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "number" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "number" }),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

/**
 * Ids of deleted accounts, and when (nothing else: no name, no address). SQLite hands out max(id) + 1 for a
 * new row, so without these the newest account's id would be given again after its deletion, and whatever
 * still names that id (audit entries, logs, a job in flight) would seem to be about the new account. New
 * users are numbered past every id here as well (src/infra/sqlite/repos/users.ts).
 */
export const deletedUsers = sqliteTable("deleted_users", {
  id: integer("id").primaryKey(),
  deletedAt: integer("deleted_at", { mode: "number" }).notNull(),
});

export const accountTokenPurposes = ["password-reset", "email-verification"] as const;
export type AccountTokenPurpose = (typeof accountTokenPurposes)[number];

/**
 * One-time tokens sent by email (src/modules/accounts/tokens.ts has the model): password resets and email
 * verifications, stored only as SHA-256 hashes, each bound to its purpose and to the address it was sent to.
 */
export const accountTokens = sqliteTable(
  "account_tokens",
  {
    id: integer("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: accountTokenPurposes }).notNull(),
    tokenHash: text("token_hash").notNull().unique("account_tokens_hash_uq"),
    /** The address the token was sent to: it works only while that is still the account's address. */
    email: text("email").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "number" }).notNull(),
    usedAt: integer("used_at", { mode: "number" }),
  },
  (t) => [
    index("account_tokens_user_idx").on(t.userId, t.purpose),
    index("account_tokens_expires_idx").on(t.expiresAt),
  ],
);

export const follows = sqliteTable(
  "follows",
  {
    followerId: integer("follower_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    followeeId: integer("followee_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    index("follows_followee_idx").on(t.followeeId),
  ],
);

export const articles = sqliteTable(
  "articles",
  {
    id: integer("id").primaryKey(),
    slug: text("slug").notNull().unique("articles_slug_uq"),
    title: text("title").notNull(),
    description: text("description").notNull(),
    body: text("body").notNull(),
    authorId: integer("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Denormalised count, kept exact by the favorite/unfavorite transactions. */
    favoritesCount: integer("favorites_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // Lists are ordered by id (creation order); an index on author_id carries the rowid, so
  // "by author, newest first" walks it backwards without sorting. The unfiltered list walks
  // articles_id_idx instead of the table: the same order, but ids only, so a deep page (offset 100,000)
  // reads ~250 index pages rather than every article row (0.65 ms rather than 45 ms).
  (t) => [index("articles_author_idx").on(t.authorId), index("articles_id_idx").on(t.id)],
);

/**
 * Slugs an article had before a new title replaced them, so old links keep working (301 to the current slug,
 * src/modules/articles/former-slugs.ts). Each points at the article, not at the next slug, so a chain of
 * renames resolves in one hop. A slug is never both live and former: taking a slug drops its entry here.
 */
export const formerSlugs = sqliteTable(
  "former_slugs",
  {
    slug: text("slug").primaryKey(),
    articleId: integer("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    replacedAt: integer("replaced_at", { mode: "number" }).notNull(),
  },
  (t) => [index("former_slugs_article_idx").on(t.articleId)],
);

export const tags = sqliteTable("tags", {
  id: integer("id").primaryKey(),
  name: text("name").notNull().unique("tags_name_uq"),
});

export const articleTags = sqliteTable(
  "article_tags",
  {
    articleId: integer("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    tagId: integer("tag_id")
      .notNull()
      .references(() => tags.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.articleId, t.tagId] }),
    index("article_tags_tag_idx").on(t.tagId, t.articleId),
  ],
);

export const favorites = sqliteTable(
  "favorites",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    articleId: integer("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.articleId] }), index("favorites_article_idx").on(t.articleId)],
);

export const comments = sqliteTable(
  "comments",
  {
    id: integer("id").primaryKey(),
    articleId: integer("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    authorId: integer("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("comments_article_idx").on(t.articleId), index("comments_author_idx").on(t.authorId)],
);

/**
 * Refresh tokens, stored only as SHA-256 hashes. A session is a refresh-token family: rotation issues a new
 * token in the same session and marks the old one used; presenting a used token again ends the session,
 * which revokes the whole family and every access token that names it.
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: integer("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique("refresh_tokens_hash_uq"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "number" }).notNull(),
    usedAt: integer("used_at", { mode: "number" }),
  },
  (t) => [
    index("refresh_tokens_session_idx").on(t.sessionId),
    index("refresh_tokens_expires_idx").on(t.expiresAt),
  ],
);

/** Admin actions and security events (logins, failed logins, role changes, suspensions, token reuse). */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey(),
    at: integer("at", { mode: "number" }).notNull(),
    action: text("action").notNull(),
    actorId: integer("actor_id").references(() => users.id, { onDelete: "set null" }),
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    /** JSON object with event details; never secrets. */
    detail: text("detail"),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at),
    index("audit_log_action_idx").on(t.action, t.at),
    index("audit_log_actor_idx").on(t.actorId, t.at),
    // An account's entries (its export, and forgetting its addresses when it is deleted) without a scan.
    index("audit_log_target_idx").on(t.targetType, t.targetId),
  ],
);

export const jobStates = ["pending", "running", "done", "dead"] as const;
export type JobState = (typeof jobStates)[number];

/**
 * The durable job queue. A job caused by a write is inserted in that write's transaction (outbox), so it
 * exists exactly when the write committed. A worker claims a job by setting `lockedUntil` (a lease); a job
 * whose lease ran out while `running` is claimed again, so a process that died loses nothing.
 */
export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey(),
    type: text("type").notNull(),
    /** JSON payload. */
    payload: text("payload").notNull().default("{}"),
    state: text("state", { enum: jobStates }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    runAt: integer("run_at", { mode: "number" }).notNull(),
    lockedUntil: integer("locked_until", { mode: "number" }),
    lockedBy: text("locked_by"),
    /** Deduplication: at most one job per key (until it is purged). */
    uniqueKey: text("unique_key").unique("jobs_unique_key_uq"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: integer("finished_at", { mode: "number" }),
  },
  (t) => [index("jobs_ready_idx").on(t.state, t.runAt), index("jobs_finished_idx").on(t.finishedAt)],
);

/** Outgoing webhook endpoints (managed by admins). The secret signs deliveries (Standard Webhooks). */
export const webhooks = sqliteTable("webhooks", {
  id: integer("id").primaryKey(),
  url: text("url").notNull(),
  /** JSON array of event names. */
  events: text("events").notNull(),
  secret: text("secret").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
});

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey(),
    webhookId: integer("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    /** The Standard Webhooks `webhook-id` (stable across retries of one event). */
    messageId: text("message_id").notNull(),
    event: text("event").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    error: text("error"),
    durationMs: integer("duration_ms"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id)],
);

/** Feature flags, changed at run time by admins (environment `QUIRE_FLAG_<NAME>` overrides). */
export const flags = sqliteTable("flags", {
  name: text("name").primaryKey(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  /** Percentage rollout by a stable hash of the user id, 0–100. */
  percentage: integer("percentage").notNull().default(100),
  updatedAt: updatedAt(),
});

/**
 * The Postgres schema: the twin of ../sqlite/schema.ts, with the same tables, columns and unique index names
 * (services map a UniqueViolation by its name: users_username_lower_uq, users_email_lower_uq, articles_slug_uq,
 * tags_name_uq, jobs_unique_key_uq, refresh_tokens_hash_uq). drizzle-kit generates drizzle/pg from this file
 * (`bun run db:generate`); never edit a generated migration, add a new one.
 *
 * What differs from SQLite, and why:
 * - Ids are `bigint` identities (SQLite's integer primary key is 64-bit too) read as JS numbers; timestamps
 *   are `bigint` epoch milliseconds from the app's clock; flags are `boolean`; JSON stays `text` (drizzle's
 *   bun-sql driver stores `jsonb` as a JSON string, drizzle-orm#5287, and nothing queries into it but the
 *   webhook subscription, which parses the array in SQL).
 * - Usernames and emails are unique under `lower(x COLLATE "C")`: with the C collation Postgres folds ASCII
 *   letters only, exactly like SQLite's lower(), so "Émile" and "émile" are two names on both engines
 *   whatever the database's locale. Every lookup spells the same expression so it uses the index.
 * - The full-text entry is an ordinary table (`articles_search`, a weighted tsvector with a GIN index)
 *   instead of an FTS5 virtual table; it goes with its article by ON DELETE CASCADE instead of a trigger.
 *   How text is folded and matched: ./repos/search-text.ts.
 * - SQLite's articles_id_idx (a covering copy of the rowid order) has no use here: the primary key is one.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { roles } from "../../policy.ts";

export { type Role, roles } from "../../policy.ts";

/** Epoch milliseconds. Bun returns int8 as a string; drizzle's number mode turns it back into a number. */
const millis = (name: string) => bigint(name, { mode: "number" });
const nowMillis = sql`(floor(extract(epoch from clock_timestamp()) * 1000))::bigint`;
const createdAt = () => millis("created_at").notNull().default(nowMillis);
const updatedAt = () => millis("updated_at").notNull().default(nowMillis);
const id = () => bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity();
const ref = (name: string) => bigint(name, { mode: "number" });

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

export const users = pgTable(
  "users",
  {
    id: id(),
    username: text("username").notNull(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    bio: text("bio"),
    image: text("image"),
    role: text("role", { enum: roles }).notNull().default("editor"),
    suspended: boolean("suspended").notNull().default(false),
    /** When the current address was verified; null: not verified. Changing the address clears it. */
    emailVerifiedAt: millis("email_verified_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("users_username_lower_uq").on(sql`lower((${t.username} COLLATE "C"))`),
    uniqueIndex("users_email_lower_uq").on(sql`lower((${t.email} COLLATE "C"))`),
    // Admins are few: counting the active ones (the last-admin rule) and listing by role need not scan.
    index("users_role_idx").on(t.role, t.suspended),
  ],
);

/** Server-side sessions (see src/modules/sessions for the token model). */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: ref("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: millis("expires_at").notNull(),
    revokedAt: millis("revoked_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

/**
 * Ids of deleted accounts, and when (nothing else). Postgres never hands an identity value out twice, so here
 * this only keeps the record the SQLite twin needs (it numbers new users past these ids).
 */
export const deletedUsers = pgTable("deleted_users", {
  id: bigint("id", { mode: "number" }).primaryKey(),
  deletedAt: millis("deleted_at").notNull(),
});

export const accountTokenPurposes = ["password-reset", "email-verification"] as const;

/** One-time tokens sent by email (password reset, email verification), stored only as SHA-256 hashes. */
export const accountTokens = pgTable(
  "account_tokens",
  {
    id: id(),
    userId: ref("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: accountTokenPurposes }).notNull(),
    tokenHash: text("token_hash").notNull().unique("account_tokens_hash_uq"),
    /** The address the token was sent to: it works only while that is still the account's address. */
    email: text("email").notNull(),
    createdAt: createdAt(),
    expiresAt: millis("expires_at").notNull(),
    usedAt: millis("used_at"),
  },
  (t) => [
    index("account_tokens_user_idx").on(t.userId, t.purpose),
    index("account_tokens_expires_idx").on(t.expiresAt),
  ],
);

export const follows = pgTable(
  "follows",
  {
    followerId: ref("follower_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    followeeId: ref("followee_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    index("follows_followee_idx").on(t.followeeId),
  ],
);

export const articles = pgTable(
  "articles",
  {
    id: id(),
    slug: text("slug").notNull().unique("articles_slug_uq"),
    title: text("title").notNull(),
    description: text("description").notNull(),
    body: text("body").notNull(),
    authorId: ref("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Denormalised count, kept exact by the favorite/unfavorite units. */
    favoritesCount: integer("favorites_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // (author_id, id): "by author, newest first" walks the index backwards and stops after a page.
  (t) => [index("articles_author_idx").on(t.authorId, t.id)],
);

/**
 * Slugs an article had before a new title replaced them, so old links keep working (301 to the current slug).
 * Each points at the article, so a chain of renames resolves in one hop; taking a slug drops its entry here.
 */
export const formerSlugs = pgTable(
  "former_slugs",
  {
    slug: text("slug").primaryKey(),
    articleId: ref("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    replacedAt: millis("replaced_at").notNull(),
  },
  (t) => [index("former_slugs_article_idx").on(t.articleId)],
);

export const tags = pgTable("tags", {
  id: id(),
  name: text("name").notNull().unique("tags_name_uq"),
});

export const articleTags = pgTable(
  "article_tags",
  {
    articleId: ref("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    tagId: ref("tag_id")
      .notNull()
      .references(() => tags.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.articleId, t.tagId] }),
    index("article_tags_tag_idx").on(t.tagId, t.articleId),
  ],
);

export const favorites = pgTable(
  "favorites",
  {
    userId: ref("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    articleId: ref("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.articleId] }), index("favorites_article_idx").on(t.articleId)],
);

export const comments = pgTable(
  "comments",
  {
    id: id(),
    articleId: ref("article_id")
      .notNull()
      .references(() => articles.id, { onDelete: "cascade" }),
    authorId: ref("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("comments_article_idx").on(t.articleId, t.id), index("comments_author_idx").on(t.authorId)],
);

/** Refresh tokens, stored only as SHA-256 hashes; a session is a refresh-token family. */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: id(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique("refresh_tokens_hash_uq"),
    createdAt: createdAt(),
    expiresAt: millis("expires_at").notNull(),
    usedAt: millis("used_at"),
  },
  (t) => [
    index("refresh_tokens_session_idx").on(t.sessionId),
    index("refresh_tokens_expires_idx").on(t.expiresAt),
  ],
);

/** Admin actions and security events. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    at: millis("at").notNull(),
    action: text("action").notNull(),
    actorId: ref("actor_id").references(() => users.id, { onDelete: "set null" }),
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

/** The durable job queue (see src/lib/queue.ts); claimed with FOR UPDATE SKIP LOCKED (./repos/jobs.ts). */
export const jobs = pgTable(
  "jobs",
  {
    id: id(),
    type: text("type").notNull(),
    /** JSON payload. */
    payload: text("payload").notNull().default("{}"),
    state: text("state", { enum: jobStates }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    runAt: millis("run_at").notNull(),
    lockedUntil: millis("locked_until"),
    lockedBy: text("locked_by"),
    /** Deduplication: at most one job per key (until it is purged). */
    uniqueKey: text("unique_key").unique("jobs_unique_key_uq"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: millis("finished_at"),
  },
  (t) => [index("jobs_ready_idx").on(t.state, t.runAt), index("jobs_finished_idx").on(t.finishedAt)],
);

/** Outgoing webhook endpoints. The secret signs deliveries (Standard Webhooks). */
export const webhooks = pgTable("webhooks", {
  id: id(),
  url: text("url").notNull(),
  /** JSON array of event names. */
  events: text("events").notNull(),
  secret: text("secret").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  createdAt: createdAt(),
});

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    webhookId: ref("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    /** The Standard Webhooks `webhook-id` (stable across retries of one event). */
    messageId: text("message_id").notNull(),
    event: text("event").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    ok: boolean("ok").notNull(),
    error: text("error"),
    durationMs: integer("duration_ms"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id),
    index("webhook_deliveries_created_idx").on(t.createdAt),
  ],
);

/** Feature flags, changed at run time by admins. */
export const flags = pgTable("flags", {
  name: text("name").primaryKey(),
  enabled: boolean("enabled").notNull(),
  /** Percentage rollout by a stable hash of the user id, 0–100. */
  percentage: integer("percentage").notNull().default(100),
  updatedAt: updatedAt(),
});

/**
 * The full-text entry of each article, written afresh by ArticlesRepo.reindex from the row and its tags:
 * weights A title, B tags, C description, D body (./repos/search.ts ranks them 10 : 5 : 3 : 1, as bm25 does on
 * SQLite).
 */
export const articlesSearch = pgTable(
  "articles_search",
  {
    articleId: ref("article_id")
      .primaryKey()
      .references(() => articles.id, { onDelete: "cascade" }),
    document: tsvector("document").notNull(),
  },
  (t) => [index("articles_search_document_idx").using("gin", t.document)],
);

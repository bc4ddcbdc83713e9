/**
 * The route tables of the permission matrix (tests/http/permissions.test.ts): every registered route is in
 * exactly one of them (the matrix's inventory test fails otherwise), with a request that would change
 * something, and the fixture and database snapshot the matrix compares before and after each refusal.
 */
import { flagNames } from "../../src/modules/flags/registry.ts";
import {
  addComment,
  count,
  createArticle,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

export interface Fixture {
  owner: TestUser;
  other: TestUser;
  slug: string;
  commentId: number;
}

export interface Route {
  method: string;
  /** The route as registered, e.g. `/api/articles/:slug`; params are filled from the fixture. */
  pattern: string;
  body?: unknown;
  /** Whose resource it is: `other` gets 403 on these. */
  owned?: "article" | "comment";
}

/**
 * Every route that requires a token (src/modules/{users,sessions,accounts,profiles,articles,comments}/
 * routes.ts).
 */
export const PROTECTED: Route[] = [
  { method: "GET", pattern: "/api/user" },
  { method: "PUT", pattern: "/api/user", body: { user: { bio: "hacked" } } },
  { method: "DELETE", pattern: "/api/user", body: { user: { password: "correct horse battery" } } },
  { method: "GET", pattern: "/api/user/export" },
  { method: "POST", pattern: "/api/user/verification-email" },
  { method: "POST", pattern: "/api/users/logout" },
  { method: "POST", pattern: "/api/users/logout-all" },
  { method: "GET", pattern: "/api/articles/feed" },
  {
    method: "POST",
    pattern: "/api/articles",
    body: { article: { title: "Forged", description: "d", body: "b" } },
  },
  {
    method: "PUT",
    pattern: "/api/articles/:slug",
    body: { article: { body: "hijacked" } },
    owned: "article",
  },
  { method: "DELETE", pattern: "/api/articles/:slug", owned: "article" },
  { method: "POST", pattern: "/api/articles/:slug/favorite" },
  { method: "DELETE", pattern: "/api/articles/:slug/favorite" },
  { method: "POST", pattern: "/api/articles/:slug/comments", body: { comment: { body: "forged" } } },
  { method: "DELETE", pattern: "/api/articles/:slug/comments/:id", owned: "comment" },
  { method: "POST", pattern: "/api/profiles/:username/follow" },
  { method: "DELETE", pattern: "/api/profiles/:username/follow" },
];

/** Admin-only routes (src/modules/{admin,audit,jobs,webhooks,flags}/routes.ts): 401, then 403 for non-admins. */
export const ADMIN: Route[] = [
  { method: "GET", pattern: "/api/admin/users" },
  { method: "PATCH", pattern: "/api/admin/users/:username", body: { role: "admin", suspended: true } },
  { method: "DELETE", pattern: "/api/admin/comments/:id" },
  { method: "DELETE", pattern: "/api/admin/articles/:slug" },
  { method: "GET", pattern: "/api/admin/audit" },
  { method: "GET", pattern: "/api/admin/jobs" },
  { method: "GET", pattern: "/api/admin/jobs/stats" },
  { method: "POST", pattern: "/api/admin/jobs/:id/retry" },
  {
    method: "POST",
    pattern: "/api/admin/webhooks",
    body: { url: "https://hooks.example.com/x", events: ["article.created"] },
  },
  { method: "GET", pattern: "/api/admin/webhooks" },
  { method: "GET", pattern: "/api/admin/webhooks/:id" },
  { method: "DELETE", pattern: "/api/admin/webhooks/:id" },
  { method: "GET", pattern: "/api/admin/webhooks/:id/deliveries" },
  { method: "GET", pattern: "/api/admin/flags" },
  { method: "PATCH", pattern: "/api/admin/flags/:name", body: { enabled: false } },
  { method: "POST", pattern: "/api/admin/backups" },
  { method: "GET", pattern: "/api/admin/backups" },
  // Last: it deletes the fixture's owner, whom the routes above act on.
  { method: "DELETE", pattern: "/api/admin/users/:username" },
];

/** Routes where a token is optional: absent is fine, present-but-bad is 401. */
export const OPTIONAL: Route[] = [
  { method: "GET", pattern: "/api/articles" },
  { method: "GET", pattern: "/api/articles/:slug" },
  { method: "GET", pattern: "/api/articles/:slug/comments" },
  { method: "GET", pattern: "/api/profiles/:username" },
];

/** Routes that take no token at all. */
export const PUBLIC = [
  "POST /api/users",
  "POST /api/users/login",
  "POST /api/users/refresh",
  "POST /api/users/password-reset",
  "POST /api/users/password-reset/confirm",
  "POST /api/users/verify-email",
  "GET /api/tags",
  "GET /health/live",
  "GET /health/ready",
];

/** Streams whose auth is per topic; their permissions are tested with the realtime module, over sockets. */
export const STREAMS = ["WS /api/realtime", "GET /api/realtime", "GET /api/realtime/sse"];

/** Guarded by their own credential (METRICS_TOKEN), not a user's token; tested with their module. */
export const OWN_CREDENTIAL = ["GET /metrics"];

export const label = (r: Route) => `${r.method} ${r.pattern}`;

export function pathOf(r: Route, f: Fixture): string {
  return r.pattern
    .replace(":slug", f.slug)
    .replace(":username", f.owner.username)
    .replace(":name", flagNames[0] ?? "x")
    .replace(":id", String(f.commentId));
}

/**
 * Everything a request could change, as one comparable value. Sessions and the audit trail only by count
 * (their rows carry last-use times): a refused call neither ends a session nor leaves an audit entry.
 */
export async function snapshot(t: TestApp) {
  const listTables =
    t.engine === "sqlite"
      ? "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '%fts%' and name not like '%drizzle%'"
      : "select tablename as name from pg_tables where schemaname = 'public'";
  const tables = (await t.db.all<{ name: string }>(`${listTables} order by name`))
    .map((r) => r.name)
    .filter((name) => !["sessions", "refresh_tokens", "audit_log"].includes(name));
  const rows = await Promise.all(tables.map((name) => t.db.all(`select * from "${name}"`)));
  return {
    ...Object.fromEntries(tables.map((name, i) => [name, rows[i]])),
    liveSessions: await count(t, "sessions where revoked_at is null"),
    auditEntries: await count(t, "audit_log"),
  };
}

export async function fixture(t: TestApp): Promise<Fixture> {
  const owner = await registerUser(t);
  const other = await registerUser(t);
  const article = await createArticle(t, owner.token, { tagList: ["perm"] });
  const comment = await addComment(t, owner.token, article.slug, "owner's comment");
  // The other user follows and favorites already, so that every write has something to change.
  await t.request("POST", `/api/profiles/${owner.username}/follow`, { token: other.token });
  await t.request("POST", `/api/articles/${article.slug}/favorite`, { token: other.token });
  return { owner, other, slug: article.slug, commentId: comment.id };
}

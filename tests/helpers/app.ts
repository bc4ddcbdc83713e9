/**
 * The in-process test app: the real createApp on a fresh, migrated database of the run's engine (TEST_ENGINE,
 * ./engine.ts: a `:memory:` SQLite, or a new Postgres database cloned from a migrated template), a fake clock
 * and a silent logger, driven through `app.handle(new Request(...))`. No sockets, no mocks of the database.
 *
 * State behind the API is asserted with `row`, `count` and `t.db` (./test-db.ts), which read the same on both
 * engines. `t.sqlite` is SQLite's connection, for the tests of what only SQLite has (they are `onlyOn("sqlite")`).
 *
 * A Postgres test app holds connections and a database: both are released when the next test file creates
 * its first app (apps belong to the file that made them, `Bun.main`), or when the run ends (./preload.ts).
 *
 * Argon2 is configured at its floor (8 KiB, 1 pass) so registering a user costs well under a millisecond.
 */
import type { Database } from "bun:sqlite";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { type AppContext, type ContextOptions, closeContext, createContext } from "../../src/context.ts";
import type { SqliteStore } from "../../src/infra/sqlite/store.ts";
import { FakeClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { Engine } from "../../src/store/store.ts";
import { testEngine } from "./engine.ts";
import { testPostgres } from "./postgres.ts";
import { postgresTestDb, sqliteTestDb, type TestDb } from "./test-db.ts";

/** The SQLite connection a context's store writes on (SQLite-only tests assert state with it). */
export const sqliteOf = (ctx: AppContext): Database => {
  if (ctx.store.engine !== "sqlite")
    throw new Error(
      'this test reads SQLite\'s connection: mark it onlyOn("sqlite") (tests/helpers/engine.ts)',
    );
  return (ctx.store as SqliteStore).connections.writer;
};

export const TEST_SECRET = "test-secret-0123456789-abcdefghij-KLMNOPQ"; // 40 bytes

export interface RequestOptions {
  /** An object is sent as JSON; a string, stream or bytes are sent as they are. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  /** Parsed JSON, or null when the body is empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely by tests
  body: any;
  text: string;
  headers: Headers;
}

export interface TestApp {
  app: App;
  ctx: AppContext;
  engine: Engine;
  /** Raw SQL on the app's database, the same on both engines (./test-db.ts). */
  db: TestDb;
  /** SQLite's connection (the store writes on it): only for tests of what SQLite alone has. */
  sqlite: Database;
  clock: FakeClock;
  /** Every log line the app wrote (empty unless LOG_LEVEL is overridden). */
  logs: string[];
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Builds the Request without sending it, for tests that need app.handle directly. */
  buildRequest(method: string, path: string, options?: RequestOptions): Request;
  /** Stop the app's workers and close its database (Postgres: drop it). Idempotent. */
  close(): Promise<void>;
}

const notSqlite = () =>
  new Proxy({} as Database, {
    get() {
      throw new Error(
        'this test uses SQLite\'s connection: mark it onlyOn("sqlite") (tests/helpers/engine.ts)',
      );
    },
  });

/** Raw SQL on a context's database (./test-db.ts); close it when done (Postgres holds a connection). */
export const testDbOf = (ctx: AppContext): TestDb =>
  ctx.store.engine === "postgres"
    ? postgresTestDb(ctx.config.DATABASE_URL)
    : sqliteTestDb(() => sqliteOf(ctx));

/** Postgres test apps not yet closed, with the test file that made each. */
const open = new Map<TestApp, string>();

/** Close every open test app (of other files than the running one, unless `all`). */
export async function closeTestApps(all = false): Promise<void> {
  const done = [...open].filter(([, file]) => all || file !== Bun.main).map(([t]) => t.close());
  await Promise.allSettled(done);
}

/** A database for an app: its own on Postgres (dropped by close), `:memory:` on SQLite. */
async function databaseFor(overrides: Record<string, string>) {
  if (testEngine === "sqlite" || overrides.DATABASE_URL !== undefined)
    return { url: overrides.DATABASE_URL ?? ":memory:", drop: async () => {} };
  const pg = await testPostgres();
  if (!pg) throw new Error("TEST_ENGINE=postgres but no Postgres could be started (see the line above)");
  const db = await pg.freshDatabase();
  return { url: db.url, drop: () => pg.dropDatabase(db.name) };
}

export async function createTestApp(
  overrides: Record<string, string> = {},
  /** Context options beyond the fake clock (a cluster node in tests/redis passes `member: true`). */
  contextOptions: Omit<ContextOptions, "clock"> = {},
): Promise<TestApp> {
  await closeTestApps();
  const database = await databaseFor(overrides);
  const config = loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_SECRET,
    PASSWORD_MEMORY_COST_KIB: "8",
    PASSWORD_TIME_COST: "1",
    LOG_LEVEL: "silent",
    // Few connections: each costs a server process, and a test app rarely runs more than two at once.
    DATABASE_POOL_SIZE: "4",
    ...overrides,
    DATABASE_URL: database.url,
  });
  const logs: string[] = [];
  const log = createLogger(config.LOG_LEVEL, { write: (line: string) => void logs.push(line) });
  const clock = new FakeClock(Date.now());
  const ctx = await createContext(config, log, { clock, ...contextOptions });
  const app = createApp(ctx);
  const db = testDbOf(ctx);

  const buildRequest = (method: string, path: string, options: RequestOptions = {}) => {
    const headers = new Headers();
    let body: RequestInit["body"];
    if (options.body !== undefined) {
      const raw =
        typeof options.body === "string" ||
        options.body instanceof ReadableStream ||
        options.body instanceof Uint8Array;
      body = raw ? (options.body as RequestInit["body"]) : JSON.stringify(options.body);
      headers.set("content-type", "application/json");
    }
    if (options.token !== undefined) headers.set("authorization", `Token ${options.token}`);
    for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
    return new Request(`http://localhost${path}`, { method, headers, body });
  };

  const request = async (method: string, path: string, options: RequestOptions = {}) => {
    const res = await app.handle(buildRequest(method, path, options));
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };

  let closing: Promise<void> | undefined;
  const t: TestApp = {
    app,
    ctx,
    engine: ctx.store.engine,
    db,
    // On Postgres a stand-in that fails on use, not on read: test helpers spread `t` into new objects.
    sqlite: ctx.store.engine === "sqlite" ? sqliteOf(ctx) : notSqlite(),
    clock,
    logs,
    request,
    buildRequest,
    close() {
      closing ??= (async () => {
        open.delete(t);
        await ctx.jobs.stop().catch(() => undefined);
        await Promise.allSettled([db.close(), closeContext(ctx)]);
        await database.drop();
      })();
      return closing;
    },
  };
  if (ctx.store.engine === "postgres") open.set(t, Bun.main);
  return t;
}

let counter = 0;
/** A name no other call in this process returns: `prefix` + a counter (letters, digits, `_`). */
export function unique(prefix = "u"): string {
  counter += 1;
  return `${prefix}${counter}_${process.pid}`;
}

export interface TestUser {
  id: number;
  token: string;
  username: string;
  email: string;
  password: string;
}

/** Register through the API; fails the test if registration does not answer 201. */
export async function registerUser(
  t: TestApp,
  overrides: Partial<Pick<TestUser, "username" | "email" | "password">> = {},
): Promise<TestUser> {
  const username = overrides.username ?? unique("user");
  const email = overrides.email ?? `${username.toLowerCase()}@example.com`;
  const password = overrides.password ?? "correct horse battery";
  const res = await t.request("POST", "/api/users", { body: { user: { username, email, password } } });
  if (res.status !== 201) throw new Error(`registerUser: ${res.status} ${res.text}`);
  const found = await row<{ id: number }>(t, "select id from users where username = ?", username);
  return { id: found!.id, token: res.body.user.token, username, email, password };
}

/** Log in through the API (a new session); returns the token. */
export async function login(t: TestApp, email: string, password: string): Promise<string> {
  const res = await t.request("POST", "/api/users/login", { body: { user: { email, password } } });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${res.text}`);
  return res.body.user.token;
}

export interface ArticleInput {
  title?: string;
  description?: string;
  body?: string;
  tagList?: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: the article as the API returned it
export type ApiArticle = any;

/** Create through the API; fails the test unless 201. Returns the `article` object. */
export async function createArticle(
  t: TestApp,
  token: string,
  overrides: ArticleInput = {},
): Promise<ApiArticle> {
  const article = {
    title: overrides.title ?? `Title ${unique("a")}`,
    description: overrides.description ?? "A description",
    body: overrides.body ?? "The body",
    ...(overrides.tagList !== undefined && { tagList: overrides.tagList }),
  };
  const res = await t.request("POST", "/api/articles", { token, body: { article } });
  if (res.status !== 201) throw new Error(`createArticle: ${res.status} ${res.text}`);
  return res.body.article;
}

/** Comment through the API; fails unless 201. Returns the `comment` object. */
export async function addComment(t: TestApp, token: string, slug: string, body = "A comment") {
  const res = await t.request("POST", `/api/articles/${slug}/comments`, {
    token,
    body: { comment: { body } },
  });
  if (res.status !== 201) throw new Error(`addComment: ${res.status} ${res.text}`);
  return res.body.comment as { id: number; body: string; createdAt: string; updatedAt: string };
}

export async function follow(t: TestApp, token: string, username: string): Promise<void> {
  const res = await t.request("POST", `/api/profiles/${username}/follow`, { token });
  if (res.status !== 200) throw new Error(`follow: ${res.status} ${res.text}`);
}

export async function favorite(t: TestApp, token: string, slug: string): Promise<void> {
  const res = await t.request("POST", `/api/articles/${slug}/favorite`, { token });
  if (res.status !== 200) throw new Error(`favorite: ${res.status} ${res.text}`);
}

/** Set a user's role directly in the database and drop cached sessions so the next request sees it. */
export async function setRole(
  t: TestApp,
  userId: number,
  role: "admin" | "editor" | "viewer",
): Promise<void> {
  await t.db.run("update users set role = ? where id = ?", role, userId);
  t.ctx.sessions.cache.clear();
}

/** A single row from the database, for asserting state behind the API (SQL both engines read: ./test-db.ts). */
export function row<T = Record<string, unknown>>(
  t: TestApp,
  sql: string,
  ...params: unknown[]
): Promise<T | null> {
  return t.db.get<T>(sql, ...params);
}

/** Count rows, e.g. `count(t, "comments where article_id = ?", id)`. */
export async function count(t: TestApp, from: string, ...params: unknown[]): Promise<number> {
  return (await row<{ n: number }>(t, `select count(*) as n from ${from}`, ...params))!.n;
}

/** Errors envelope shorthand: `envelope("token", "is missing")`. */
export const envelope = (field: string, message: string) => ({ errors: { [field]: [message] } });

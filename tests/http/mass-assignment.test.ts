/**
 * Mass assignment: fields a client must not set (role, suspended, ids, password hash, counters, timestamps,
 * authorship, slugs) are dropped before handlers see them (Elysia `normalize` with closed schemas). Every
 * write route that takes a body is sent the lot; each case checks the answer and the stored row.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  createArticle,
  createTestApp,
  registerUser,
  row,
  setRole,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const LONG_AGO = "2000-01-01T00:00:00.000Z";

/** What a client might try to smuggle into its own account. */
const accountFields = (otherId: number) => ({
  role: "admin",
  suspended: true,
  emailVerified: true,
  emailVerifiedAt: LONG_AGO,
  id: otherId,
  passwordHash: "x",
  createdAt: LONG_AGO,
  updatedAt: LONG_AGO,
});

/** Articles and comments: ids, authorship, counters and timestamps. */
const contentFields = (other: TestUser) => ({
  id: 1,
  favoritesCount: 99,
  favorited: true,
  author: { username: other.username },
  authorId: other.id,
  createdAt: LONG_AGO,
  updatedAt: LONG_AGO,
});

let t: TestApp;
let alice: TestUser;
let bob: TestUser;

const account = async (id: number) =>
  (await row<Record<string, unknown>>(
    t,
    "select id, role, suspended, email_verified_at, password_hash, email, username, bio, created_at from users where id = ?",
    id,
  ))!;

beforeAll(async () => {
  t = await createTestApp();
  alice = await registerUser(t);
  bob = await registerUser(t);
});

describe("accounts", () => {
  test("registration: an editor with a fresh id, the real hash and its own creation time", async () => {
    const username = unique("sneaky");
    const res = await t.request("POST", "/api/users", {
      body: {
        user: { username, email: `${username}@example.com`, password: "password-123", ...accountFields(1) },
        role: "admin",
      },
    });
    expect(res.status).toBe(201);
    // Nothing extra comes back either (no role, no id).
    expect(Object.keys(res.body.user).sort()).toEqual([
      "bio",
      "email",
      "emailVerified",
      "image",
      "refreshToken",
      "token",
      "username",
    ]);
    // Verification comes from following a link, never from a body.
    expect(res.body.user.emailVerified).toBe(false);
    const stored = (await row<{
      id: number;
      role: string;
      suspended: number;
      created_at: number;
      password_hash: string;
      email_verified_at: number | null;
    }>(
      t,
      "select id, role, suspended, created_at, password_hash, email_verified_at from users where username = ?",
      username,
    ))!;
    expect(stored.email_verified_at).toBeNull();
    expect(stored.role).toBe("editor");
    expect(stored.suspended).toBe(0);
    expect(stored.id).not.toBe(1);
    expect(stored.created_at).toBeGreaterThan(Date.parse(LONG_AGO));
    expect(stored.password_hash).toStartWith("$argon2id$");
    // And the account really is not an admin.
    expect((await t.request("GET", "/api/admin/users", { token: res.body.user.token })).status).toBe(403);
  });

  test("updating yourself: only bio changes; another account named by id is untouched", async () => {
    const before = await account(alice.id);
    const bobBefore = await account(bob.id);
    const res = await t.request("PUT", "/api/user", {
      token: alice.token,
      body: { user: { bio: "legit", ...accountFields(bob.id) } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.bio).toBe("legit");
    expect(await account(alice.id)).toEqual({ ...before, bio: "legit" });
    expect(await account(bob.id)).toEqual(bobBefore);
  });
});

describe("articles and comments", () => {
  test("creating an article: the caller's, uncounted, with a slug from its title and now as its time", async () => {
    const title = `Honest Title ${unique()}`;
    const res = await t.request("POST", "/api/articles", {
      token: alice.token,
      body: { article: { title, description: "d", body: "b", slug: "chosen-slug", ...contentFields(bob) } },
    });
    expect(res.status).toBe(201);
    const a = res.body.article;
    expect(a.slug).not.toBe("chosen-slug");
    expect(a).toMatchObject({ favoritesCount: 0, favorited: false, author: { username: alice.username } });
    expect(a.createdAt).not.toBe(LONG_AGO);
    expect(
      await row(t, "select author_id, favorites_count, created_at from articles where slug = ?", a.slug),
    ).toEqual({
      author_id: alice.id,
      favorites_count: 0,
      created_at: t.clock.now(),
    });
  });

  test("updating an article: slug, counters, creation time and author stay", async () => {
    const a = await createArticle(t, alice.token);
    const res = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: alice.token,
      body: { article: { body: "new", slug: "moved", ...contentFields(bob) } },
    });
    expect(res.status).toBe(200);
    expect(res.body.article).toMatchObject({
      slug: a.slug,
      body: "new",
      favoritesCount: 0,
      createdAt: a.createdAt,
      author: { username: alice.username },
    });
    expect(await row(t, "select author_id, favorites_count from articles where slug = ?", a.slug)).toEqual({
      author_id: alice.id,
      favorites_count: 0,
    });
  });

  test("commenting: the caller's comment, with a fresh id and now as its time", async () => {
    const a = await createArticle(t, alice.token);
    const res = await t.request("POST", `/api/articles/${a.slug}/comments`, {
      token: bob.token,
      body: { comment: { body: "hi", ...contentFields(alice), id: 424242 } },
    });
    expect(res.status).toBe(201);
    expect(res.body.comment.id).not.toBe(424242);
    expect(res.body.comment.author.username).toBe(bob.username);
    expect(res.body.comment.createdAt).not.toBe(LONG_AGO);
    expect(await row(t, "select author_id from comments where id = ?", res.body.comment.id)).toEqual({
      author_id: bob.id,
    });
  });
});

describe("the admin API", () => {
  let admin: TestUser;
  beforeAll(async () => {
    admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
  });

  test("PATCH changes only role and suspended, whatever else the body says", async () => {
    const target = await registerUser(t);
    const before = await account(target.id);
    const res = await t.request("PATCH", `/api/admin/users/${target.username}`, {
      token: admin.token,
      body: {
        role: "viewer",
        email: "taken@example.com",
        password: "x".repeat(10),
        username: "renamed",
        bio: "set by admin",
        id: 1,
      },
    });
    expect(res.status).toBe(200);
    expect(await account(target.id)).toEqual({ ...before, role: "viewer" });
  });

  test("PATCH with only unknown fields is 422 and changes nothing", async () => {
    const before = await account(alice.id);
    const res = await t.request("PATCH", `/api/admin/users/${alice.username}`, {
      token: admin.token,
      body: { isAdmin: true },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toBeDefined();
    expect(await account(alice.id)).toEqual(before);
  });
});

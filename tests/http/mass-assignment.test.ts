/** Fields a client must not set (role, id, counters, timestamps, authorship) are ignored, not stored. */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  createArticle,
  createTestApp,
  registerUser,
  row,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const LONG_AGO = "2000-01-01T00:00:00.000Z";

describe("mass assignment", () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t);
    bob = await registerUser(t);
  });

  test("register ignores role, id, suspended and timestamps", async () => {
    const username = unique("sneaky");
    const res = await t.request("POST", "/api/users", {
      body: {
        user: {
          username,
          email: `${username}@example.com`,
          password: "password-123",
          role: "admin",
          id: 9999,
          suspended: false,
          createdAt: LONG_AGO,
          passwordHash: "x",
        },
        role: "admin",
      },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body.user).sort()).toEqual([
      "bio",
      "email",
      "image",
      "refreshToken",
      "token",
      "username",
    ]);
    const stored = row<{ id: number; role: string; created_at: number; password_hash: string }>(
      t,
      "select id, role, created_at, password_hash from users where username = ?",
      username,
    );
    expect(stored!.role).toBe("editor");
    expect(stored!.id).not.toBe(9999);
    expect(stored!.created_at).toBeGreaterThan(Date.parse(LONG_AGO));
    expect(stored!.password_hash).toStartWith("$argon2id$");
  });

  test("update ignores role, id, suspended and passwordHash", async () => {
    const before = row<{ id: number; role: string; password_hash: string }>(
      t,
      "select id, role, password_hash from users where id = ?",
      alice.id,
    );
    const res = await t.request("PUT", "/api/user", {
      token: alice.token,
      body: { user: { bio: "legit", role: "admin", id: bob.id, suspended: true, passwordHash: "x" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.bio).toBe("legit");
    const after = row<{ id: number; role: string; password_hash: string; suspended: number }>(
      t,
      "select id, role, password_hash, suspended from users where id = ?",
      alice.id,
    );
    expect(after).toEqual({ ...before!, suspended: 0 });
    const bobRow = row<{ bio: string | null }>(t, "select bio from users where id = ?", bob.id);
    expect(bobRow!.bio).toBeNull();
  });

  test("create article ignores id, slug, favoritesCount, timestamps and author", async () => {
    const title = `Honest Title ${unique()}`;
    const res = await t.request("POST", "/api/articles", {
      token: alice.token,
      body: {
        article: {
          title,
          description: "d",
          body: "b",
          id: 1,
          slug: "chosen-slug",
          favoritesCount: 99,
          favorited: true,
          createdAt: LONG_AGO,
          updatedAt: LONG_AGO,
          author: { username: bob.username },
          authorId: bob.id,
        },
      },
    });
    expect(res.status).toBe(201);
    const a = res.body.article;
    expect(a.slug).not.toBe("chosen-slug");
    expect(a).toMatchObject({ favoritesCount: 0, favorited: false, author: { username: alice.username } });
    expect(a.createdAt).not.toBe(LONG_AGO);
    const stored = row<{ author_id: number; favorites_count: number; created_at: number }>(
      t,
      "select author_id, favorites_count, created_at from articles where slug = ?",
      a.slug,
    );
    expect(stored).toEqual({ author_id: alice.id, favorites_count: 0, created_at: t.clock.now() });
  });

  test("update article ignores favoritesCount, createdAt and author", async () => {
    const a = await createArticle(t, alice.token);
    const res = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: alice.token,
      body: {
        article: { body: "new", favoritesCount: 50, createdAt: LONG_AGO, authorId: bob.id, slug: "moved" },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.article).toMatchObject({ slug: a.slug, favoritesCount: 0, createdAt: a.createdAt });
    const stored = row<{ author_id: number; favorites_count: number }>(
      t,
      "select author_id, favorites_count from articles where slug = ?",
      a.slug,
    );
    expect(stored).toEqual({ author_id: alice.id, favorites_count: 0 });
  });

  test("comment ignores id, author and timestamps", async () => {
    const a = await createArticle(t, alice.token);
    const res = await t.request("POST", `/api/articles/${a.slug}/comments`, {
      token: bob.token,
      body: { comment: { body: "hi", id: 424242, authorId: alice.id, createdAt: LONG_AGO } },
    });
    expect(res.status).toBe(201);
    expect(res.body.comment.id).not.toBe(424242);
    expect(res.body.comment.author.username).toBe(bob.username);
    expect(res.body.comment.createdAt).not.toBe(LONG_AGO);
    const stored = row<{ author_id: number }>(
      t,
      "select author_id from comments where id = ?",
      res.body.comment.id,
    );
    expect(stored!.author_id).toBe(bob.id);
  });
});

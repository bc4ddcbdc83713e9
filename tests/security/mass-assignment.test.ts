/**
 * Mass assignment: role, suspended, ids, counts, timestamps and authors in request bodies are stripped
 * before handlers see them (Elysia `normalize` with closed schemas). Each case checks the database.
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
} from "../helpers/app.ts";

let t: TestApp;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  user = await registerUser(t);
});

const userRow = (id: number) =>
  row<{ id: number; role: string; suspended: number; created_at: number }>(
    t,
    "select id, role, suspended, created_at from users where id = ?",
    id,
  )!;

describe("mass assignment", () => {
  test("registration ignores role, suspended, id and timestamps", async () => {
    const username = `mass_${Date.now()}`;
    const res = await t.request("POST", "/api/users", {
      body: {
        user: {
          username,
          email: `${username}@example.com`,
          password: "password-123",
          role: "admin",
          suspended: false,
          id: 1,
          createdAt: 0,
        },
        role: "admin",
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.user.role).toBeUndefined();
    const created = row<{ id: number; role: string; created_at: number }>(
      t,
      "select id, role, created_at from users where username = ?",
      username,
    )!;
    expect(created.role).toBe("editor");
    expect(created.id).not.toBe(1);
    expect(created.created_at).toBeGreaterThan(0);
    const admin = await t.request("GET", "/api/admin/users", { token: res.body.user.token });
    expect(admin.status).toBe(403);
  });

  test("updating yourself ignores role, suspended, id and timestamps", async () => {
    const before = userRow(user.id);
    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { bio: "new bio", role: "admin", suspended: true, id: 999, createdAt: 1, updatedAt: 1 } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.bio).toBe("new bio");
    expect(userRow(user.id)).toEqual(before);
  });

  test("creating an article ignores author, counts, timestamps and ids", async () => {
    const other = await registerUser(t);
    const res = await t.request("POST", "/api/articles", {
      token: user.token,
      body: {
        article: {
          title: "Mass assigned",
          description: "d",
          body: "b",
          favoritesCount: 1000,
          favorited: true,
          author: { username: other.username },
          authorId: other.id,
          id: 1,
          createdAt: "2000-01-01T00:00:00.000Z",
        },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.article).toMatchObject({
      favoritesCount: 0,
      favorited: false,
      author: { username: user.username },
    });
    const stored = row<{ author_id: number; favorites_count: number; created_at: number }>(
      t,
      "select author_id, favorites_count, created_at from articles where slug = ?",
      res.body.article.slug,
    )!;
    expect(stored).toMatchObject({ author_id: user.id, favorites_count: 0 });
    expect(stored.created_at).toBeGreaterThan(Date.parse("2001-01-01"));
  });

  test("updating an article ignores favoritesCount and author", async () => {
    const article = await createArticle(t, user.token);
    const res = await t.request("PUT", `/api/articles/${article.slug}`, {
      token: user.token,
      body: { article: { body: "edited", favoritesCount: 50, authorId: 1 } },
    });
    expect(res.status).toBe(200);
    expect(row(t, "select author_id, favorites_count from articles where slug = ?", article.slug)).toEqual({
      author_id: user.id,
      favorites_count: 0,
    });
  });

  test("the admin API changes only role and suspended, whatever else the body says", async () => {
    const admin = await registerUser(t);
    setRole(t, admin.id, "admin");
    const target = await registerUser(t);
    const before = row(t, "select email, password_hash, username, bio from users where id = ?", target.id);
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
    expect(row(t, "select email, password_hash, username, bio from users where id = ?", target.id)).toEqual(
      before,
    );
    expect(userRow(target.id).role).toBe("viewer");
  });

  test("an admin PATCH with only unknown fields is 422 and changes nothing", async () => {
    const admin = await registerUser(t);
    setRole(t, admin.id, "admin");
    const before = userRow(user.id);
    const res = await t.request("PATCH", `/api/admin/users/${user.username}`, {
      token: admin.token,
      body: { isAdmin: true },
    });
    expect(res.status).toBe(422);
    expect(userRow(user.id)).toEqual(before);
  });
});

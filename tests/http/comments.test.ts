/** Comments on articles (RealWorld §3.16–3.18). */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  follow,
  registerUser,
  type TestApp,
  type TestUser,
  unique,
} from "../helpers/app.ts";

describe("POST /api/articles/:slug/comments", () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;
  let slug: string;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
    slug = (await createArticle(t, author.token)).slug;
  });

  test("201 with an integer id, the body, clock timestamps and the author's profile", async () => {
    const res = await t.request("POST", `/api/articles/${slug}/comments`, {
      token: reader.token,
      body: { comment: { body: "Nice article" } },
    });
    expect(res.status).toBe(201);
    const now = new Date(t.clock.now()).toISOString();
    expect(res.body).toEqual({
      comment: {
        id: expect.any(Number),
        createdAt: now,
        updatedAt: now,
        body: "Nice article",
        author: { username: reader.username, bio: null, image: null, following: false },
      },
    });
    expect(Number.isInteger(res.body.comment.id)).toBe(true);
    expect(await count(t, "comments where id = ? and body = ?", res.body.comment.id, "Nice article")).toBe(1);
  });

  test("422 body can't be blank; nothing stored", async () => {
    const before = await count(t, "comments");
    for (const comment of [{ body: "" }, {}]) {
      const res = await t.request("POST", `/api/articles/${slug}/comments`, {
        token: reader.token,
        body: { comment },
      });
      expect(res.status).toBe(422);
      expect(res.body).toEqual(envelope("body", "can't be blank"));
    }
    expect(await count(t, "comments")).toBe(before);
  });

  test("401 without a token, even on an unknown article", async () => {
    const res = await t.request("POST", "/api/articles/some-slug/comments", {
      body: { comment: { body: "x" } },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("404 article not found for an unknown slug", async () => {
    const before = await count(t, "comments");
    const res = await t.request("POST", `/api/articles/${unique("ghost")}/comments`, {
      token: reader.token,
      body: { comment: { body: "x" } },
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
    expect(await count(t, "comments")).toBe(before);
  });
});

describe("GET /api/articles/:slug/comments", () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
  });

  test("empty list is {comments: []}", async () => {
    const a = await createArticle(t, author.token);
    const res = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ comments: [] });
  });

  test("lists the article's comments oldest first, identical to what create returned", async () => {
    const a = await createArticle(t, author.token);
    const c1 = await addComment(t, author.token, a.slug, "first");
    t.clock.advance(5);
    const c2 = await addComment(t, reader.token, a.slug, "second");
    const res = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ comments: [c1, c2] });
  });

  test("author.following reflects the viewer; false anonymously", async () => {
    const a = await createArticle(t, author.token);
    await addComment(t, author.token, a.slug, "by the author");
    await follow(t, reader.token, author.username);
    const mine = await t.request("GET", `/api/articles/${a.slug}/comments`, { token: reader.token });
    expect(mine.body.comments[0].author).toMatchObject({ username: author.username, following: true });
    const anon = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(anon.body.comments[0].author.following).toBe(false);
  });

  test("comments are scoped to their article", async () => {
    const a = await createArticle(t, author.token);
    const b = await createArticle(t, author.token);
    const onA = await addComment(t, reader.token, a.slug, "on A");
    const onB = await addComment(t, reader.token, b.slug, "on B");
    const listA = await t.request("GET", `/api/articles/${a.slug}/comments`);
    const listB = await t.request("GET", `/api/articles/${b.slug}/comments`);
    expect(listA.body.comments.map((c: { id: number }) => c.id)).toEqual([onA.id]);
    expect(listB.body.comments.map((c: { id: number }) => c.id)).toEqual([onB.id]);
  });

  test("404 article not found for an unknown slug", async () => {
    const res = await t.request("GET", `/api/articles/${unique("ghost")}/comments`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });
});

describe("DELETE /api/articles/:slug/comments/:id", () => {
  let t: TestApp;
  let author: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    other = await registerUser(t);
  });

  test("204 with no body; the other comments stay", async () => {
    const a = await createArticle(t, author.token);
    const first = await addComment(t, author.token, a.slug, "First comment");
    const second = await addComment(t, author.token, a.slug, "Second comment");
    const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/${first.id}`, {
      token: author.token,
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    const list = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(list.body).toEqual({ comments: [second] });
    expect(await count(t, "comments where id = ?", first.id)).toBe(0);
  });

  test("401 without a token comes first (some-slug/comments/1)", async () => {
    const res = await t.request("DELETE", "/api/articles/some-slug/comments/1");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("404 article (not comment) when the slug is unknown", async () => {
    const res = await t.request("DELETE", `/api/articles/${unique("ghost")}/comments/99999`, {
      token: author.token,
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("article", "not found"));
  });

  test("404 comment for an id that does not exist on an existing article", async () => {
    const a = await createArticle(t, author.token);
    const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/99999`, { token: author.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("comment", "not found"));
  });

  test("404 comment when the id belongs to another article; that comment survives", async () => {
    const a = await createArticle(t, author.token);
    const b = await createArticle(t, author.token);
    const onA = await addComment(t, author.token, a.slug, "on A");
    const res = await t.request("DELETE", `/api/articles/${b.slug}/comments/${onA.id}`, {
      token: author.token,
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("comment", "not found"));
    expect(await count(t, "comments where id = ?", onA.id)).toBe(1);
  });

  test("403 comment forbidden for someone else's comment; it is still listed", async () => {
    const a = await createArticle(t, author.token);
    const c = await addComment(t, author.token, a.slug, "A's comment");
    const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/${c.id}`, { token: other.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("comment", "forbidden"));
    const list = await t.request("GET", `/api/articles/${a.slug}/comments`);
    expect(list.body.comments).toEqual([c]);
  });

  test("the article's author may not delete a reader's comment (only admins moderate)", async () => {
    const a = await createArticle(t, author.token);
    const c = await addComment(t, other.token, a.slug, "reader's comment");
    const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/${c.id}`, {
      token: author.token,
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("comment", "forbidden"));
    expect(await count(t, "comments where id = ?", c.id)).toBe(1);
  });

  test("a commenter may delete their own comment on someone else's article", async () => {
    const a = await createArticle(t, author.token);
    const c = await addComment(t, other.token, a.slug);
    const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/${c.id}`, { token: other.token });
    expect(res.status).toBe(204);
    expect(await count(t, "comments where id = ?", c.id)).toBe(0);
  });

  test("a non-numeric id is refused with an envelope naming id; nothing deleted", async () => {
    const a = await createArticle(t, author.token);
    await addComment(t, author.token, a.slug);
    const before = await count(t, "comments");
    for (const id of ["abc", "-1", "1.5", "0"]) {
      const res = await t.request("DELETE", `/api/articles/${a.slug}/comments/${id}`, {
        token: author.token,
      });
      expect(res.status).toBeOneOf([404, 422]);
      expect(Object.keys(res.body.errors)).toHaveLength(1);
    }
    expect(await count(t, "comments")).toBe(before);
  });
});

/** GET /api/tags (RealWorld §3.19): every tag in use, uncapped, no auth needed. */
import { beforeAll, describe, expect, test } from "bun:test";
import { createArticle, createTestApp, registerUser, type TestApp, type TestUser } from "../helpers/app.ts";

describe("GET /api/tags", () => {
  let t: TestApp;
  let author: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
  });

  test("no articles: {tags: []}", async () => {
    const res = await t.request("GET", "/api/tags");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tags: [] });
  });

  test("every distinct tag in use, once each, alphabetically", async () => {
    await createArticle(t, author.token, { tagList: ["t_x", "h_x"] });
    await createArticle(t, author.token, { tagList: ["h_x", "a_x"] });
    const res = await t.request("GET", "/api/tags");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tags: ["a_x", "h_x", "t_x"] });
  });

  test("uncapped: 60 tags across articles are all returned", async () => {
    const names = Array.from({ length: 60 }, (_, i) => `bulk-${String(i).padStart(2, "0")}`);
    for (let i = 0; i < names.length; i += 15) {
      await createArticle(t, author.token, { tagList: names.slice(i, i + 15) });
    }
    const res = await t.request("GET", "/api/tags");
    for (const n of names) expect(res.body.tags).toContain(n);
    expect(new Set(res.body.tags).size).toBe(res.body.tags.length);
  });

  test("a token is optional and does not change the answer", async () => {
    const anon = await t.request("GET", "/api/tags");
    const authed = await t.request("GET", "/api/tags", { token: author.token });
    expect(authed.status).toBe(200);
    expect(authed.body).toEqual(anon.body);
  });

  test("tags no article uses any more disappear (article deleted, or tags cleared)", async () => {
    const a = await createArticle(t, author.token, { tagList: ["gone-by-delete"] });
    const b = await createArticle(t, author.token, { tagList: ["gone-by-update"] });
    expect((await t.request("GET", "/api/tags")).body.tags).toEqual(
      expect.arrayContaining(["gone-by-delete", "gone-by-update"]),
    );
    await t.request("DELETE", `/api/articles/${a.slug}`, { token: author.token });
    await t.request("PUT", `/api/articles/${b.slug}`, {
      token: author.token,
      body: { article: { tagList: [] } },
    });
    const res = await t.request("GET", "/api/tags");
    expect(res.body.tags).not.toContain("gone-by-delete");
    expect(res.body.tags).not.toContain("gone-by-update");
  });
});

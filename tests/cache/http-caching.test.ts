/** HTTP caching (src/http/etag.ts): strong ETags, 304s, and Cache-Control/Vary per route. */
import { beforeEach, describe, expect, test } from "bun:test";
import { cacheControlFor, matchesIfNoneMatch } from "../../src/http/etag.ts";
import {
  type ApiArticle,
  addComment,
  createArticle,
  createTestApp,
  favorite,
  registerUser,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let reader: TestUser;
let article: ApiArticle;

beforeEach(async () => {
  t = await createTestApp();
  author = await registerUser(t);
  reader = await registerUser(t);
  article = await createArticle(t, author.token, { tagList: ["x"] });
});

const strongEtag = /^"[0-9a-z]+-[0-9a-z]+"$/;

describe("ETag and If-None-Match", () => {
  const paths = () => [
    `/api/articles/${article.slug}`,
    "/api/articles",
    "/api/articles?tag=x",
    "/api/articles?q=title",
    "/api/tags",
    `/api/profiles/${author.username}`,
    `/api/articles/${article.slug}/comments`,
  ];

  test("every successful GET has a strong ETag, and sending it back gives a 304 with no body", async () => {
    for (const path of paths()) {
      const first = await t.request("GET", path);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag")!;
      expect(etag).toMatch(strongEtag);
      const again = await t.request("GET", path, { headers: { "if-none-match": etag } });
      expect({ path, status: again.status, text: again.text }).toEqual({ path, status: 304, text: "" });
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("cache-control")).toBe("public, no-cache");
    }
  });

  test("the ETag is that of the bytes: the same answer twice has the same tag", async () => {
    const a = await t.request("GET", "/api/articles");
    const b = await t.request("GET", "/api/articles");
    expect(b.text).toBe(a.text);
    expect(b.headers.get("etag")).toBe(a.headers.get("etag"));
  });

  test("weak, listed and * forms match; other tags do not", async () => {
    const path = `/api/articles/${article.slug}`;
    const etag = (await t.request("GET", path)).headers.get("etag")!;
    for (const header of [`W/${etag}`, `"nope", ${etag}`, "*"]) {
      expect((await t.request("GET", path, { headers: { "if-none-match": header } })).status).toBe(304);
    }
    for (const header of ['"nope"', `${etag.slice(0, -2)}"`, "", `W/"x", "y"`]) {
      const res = await t.request("GET", path, { headers: { "if-none-match": header } });
      expect(res.status).toBe(200);
      expect(res.body.article.slug).toBe(article.slug);
    }
  });

  test("after a write the old ETag no longer matches: 200 with the new answer", async () => {
    const path = `/api/articles/${article.slug}`;
    const etag = (await t.request("GET", path)).headers.get("etag")!;
    const listEtag = (await t.request("GET", "/api/articles")).headers.get("etag")!;
    await favorite(t, reader.token, article.slug);
    const res = await t.request("GET", path, { headers: { "if-none-match": etag } });
    expect(res.status).toBe(200);
    expect(res.body.article.favoritesCount).toBe(1);
    expect(res.headers.get("etag")).not.toBe(etag);
    const list = await t.request("GET", "/api/articles", { headers: { "if-none-match": listEtag } });
    expect(list.status).toBe(200);
    expect(list.body.articles[0].favoritesCount).toBe(1);
  });

  test("uncached answers (comments, feed) get ETags and 304s too, and change with the data", async () => {
    const path = `/api/articles/${article.slug}/comments`;
    const etag = (await t.request("GET", path)).headers.get("etag")!;
    await addComment(t, reader.token, article.slug, "hello");
    const res = await t.request("GET", path, { headers: { "if-none-match": etag } });
    expect(res.status).toBe(200);
    expect(res.body.comments).toHaveLength(1);
    const feed = await t.request("GET", "/api/articles/feed", { token: reader.token });
    const again = await t.request("GET", "/api/articles/feed", {
      token: reader.token,
      headers: { "if-none-match": feed.headers.get("etag")! },
    });
    expect(again.status).toBe(304);
  });

  test("a reader whose flags differ gets a different ETag; one whose flags are false gets the anonymous one", async () => {
    const path = `/api/articles/${article.slug}`;
    const anonymous = await t.request("GET", path);
    const plain = await t.request("GET", path, { token: reader.token });
    expect(plain.text).toBe(anonymous.text);
    expect(plain.headers.get("etag")).toBe(anonymous.headers.get("etag"));
    await favorite(t, reader.token, article.slug);
    const anon2 = await t.request("GET", path);
    const mine = await t.request("GET", path, { token: reader.token });
    expect(mine.body.article.favorited).toBe(true);
    expect(mine.headers.get("etag")).not.toBe(anon2.headers.get("etag"));
    // A shared cache revalidating the anonymous copy for this reader gets their own answer, not a 304.
    const revalidate = await t.request("GET", path, {
      token: reader.token,
      headers: { "if-none-match": anon2.headers.get("etag")! },
    });
    expect(revalidate.status).toBe(200);
    expect(revalidate.body.article.favorited).toBe(true);
  });

  test("cached bodies leave with the same headers (security, CORS, request id) as serialized ones", async () => {
    const cached = await t.request("GET", "/api/tags");
    const serialized = await t.request("GET", `/api/articles/${article.slug}/comments`);
    const names = (h: Headers) => [...h.keys()].filter((k) => k !== "content-length").sort();
    expect(names(cached.headers)).toEqual(names(serialized.headers));
    expect(cached.headers.get("x-content-type-options")).toBe("nosniff");
    expect(cached.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  test("errors and writes carry no ETag", async () => {
    const missing = await t.request("GET", "/api/articles/no-such-article");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("etag")).toBeNull();
    expect(missing.body).toEqual({ errors: { article: ["not found"] } });
    const write = await t.request("POST", `/api/articles/${article.slug}/favorite`, { token: reader.token });
    expect(write.status).toBe(200);
    expect(write.headers.get("etag")).toBeNull();
  });
});

describe("Cache-Control", () => {
  test("anonymous reads: public, no-cache, varying on Authorization", async () => {
    const res = await t.request("GET", `/api/articles/${article.slug}`);
    expect(res.headers.get("cache-control")).toBe("public, no-cache");
    expect(res.headers.get("vary")).toContain("Authorization");
  });

  test("reads with a token: private, no-cache", async () => {
    for (const path of [
      `/api/articles/${article.slug}`,
      "/api/articles",
      "/api/articles/feed",
      "/api/tags",
    ]) {
      const res = await t.request("GET", path, { token: reader.token });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("private, no-cache");
    }
  });

  test("account data and every write: no-store", async () => {
    const user = await t.request("GET", "/api/user", { token: reader.token });
    expect(user.status).toBe(200);
    expect(user.headers.get("cache-control")).toBe("no-store");
    const login = await t.request("POST", "/api/users/login", {
      body: { user: { email: reader.email, password: reader.password } },
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("cache-control")).toBe("no-store");
    const write = await t.request("POST", `/api/articles/${article.slug}/comments`, {
      token: reader.token,
      body: { comment: { body: "x" } },
    });
    expect(write.status).toBe(201);
    expect(write.headers.get("cache-control")).toBe("no-store");
  });

  test("the policy table", async () => {
    const cases: [string, string, boolean, string | undefined][] = [
      ["GET", "/api/articles", false, "public, no-cache"],
      ["GET", "/api/articles", true, "private, no-cache"],
      ["GET", "/api/user", true, "no-store"],
      ["GET", "/api/users/sessions", true, "no-store"],
      ["GET", "/api/admin/users", true, "no-store"],
      ["GET", "/api/auth/refresh", false, "no-store"],
      ["GET", "/api/sessions", true, "no-store"],
      ["GET", "/api/userspace", false, "public, no-cache"],
      ["POST", "/api/articles", true, "no-store"],
      ["DELETE", "/api/articles/x", true, "no-store"],
      ["GET", "/openapi", false, undefined],
    ];
    for (const [method, path, auth, expected] of cases)
      expect(cacheControlFor(method, path, auth)).toBe(expected);
  });

  test("If-None-Match parsing", async () => {
    expect(matchesIfNoneMatch(null, '"a"')).toBe(false);
    expect(matchesIfNoneMatch('"a"', '"a"')).toBe(true);
    expect(matchesIfNoneMatch(' "b" ,W/"a"', '"a"')).toBe(true);
    expect(matchesIfNoneMatch('"ab"', '"a"')).toBe(false);
    expect(matchesIfNoneMatch("*", '"a"')).toBe(true);
  });
});

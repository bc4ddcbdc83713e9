/**
 * Secure defaults at the HTTP layer: security headers on 2xx/4xx/5xx, HSTS only for TLS vouched for by a
 * trusted proxy, CORS from the allow-list only, JSON-only bodies, bounded sizes, deep nesting.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { count, createArticle, createTestApp, registerUser, row, type TestApp } from "../helpers/app.ts";
import { createPeerTestApp } from "./helpers.ts";

const expectSecurityHeaders = (headers: Headers) => {
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(headers.get("referrer-policy")).toBe("no-referrer");
  expect(headers.get("x-powered-by")).toBeNull();
};

describe("security headers", () => {
  test("on 2xx, 4xx and 5xx alike; the 500 leaks nothing", async () => {
    const t = await createTestApp();
    const ok = await t.request("GET", "/api/articles");
    expect(ok.status).toBe(200);
    expectSecurityHeaders(ok.headers);
    for (const [method, path] of [
      ["GET", "/api/nowhere"],
      ["GET", "/api/user"],
      ["GET", "/api/articles/missing"],
    ] as const) {
      const res = await t.request(method, path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectSecurityHeaders(res.headers);
    }
    await t.db.run("alter table tags rename to tags_gone"); // a tag filter now fails: a genuine internal error
    const broken = await t.request("GET", `/api/articles?tag=uncached${Date.now()}`);
    expect(broken.status).toBe(500);
    expect(broken.body).toEqual({ errors: { server: ["internal error"] } });
    expectSecurityHeaders(broken.headers);
  });

  test("HSTS only when a trusted proxy says the client used TLS", async () => {
    const t = await createPeerTestApp({ TRUSTED_PROXIES: "10.0.0.1" });
    const hsts = async (peer: string, proto?: string) =>
      (
        await t.request("GET", "/api/tags", { peer, headers: proto ? { "x-forwarded-proto": proto } : {} })
      ).headers.get("strict-transport-security");
    expect(await hsts("10.0.0.1", "https")).toBe("max-age=31536000; includeSubDomains");
    expect(await hsts("10.0.0.1", "http")).toBeNull();
    expect(await hsts("10.0.0.1")).toBeNull();
    expect(await hsts("203.0.113.5", "https")).toBeNull();
  });
});

describe("CORS", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: "https://app.example.com" });
  });
  test("an unlisted origin gets no CORS grant, on simple and preflight requests", async () => {
    const simple = await t.request("GET", "/api/tags", { headers: { origin: "https://evil.example" } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
    expect(simple.headers.get("access-control-allow-credentials")).toBeNull();
    const preflight = await t.request("OPTIONS", "/api/user", {
      headers: { origin: "https://evil.example", "access-control-request-method": "PUT" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a listed origin is granted, without credentials", async () => {
    const res = await t.request("GET", "/api/tags", { headers: { origin: "https://app.example.com" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-credentials")).not.toBe("true");
  });
});

describe("request bodies", () => {
  test("a body over BODY_LIMIT_BYTES is 413 and creates nothing, declared or streamed", async () => {
    const t = await createTestApp({ BODY_LIMIT_BYTES: "10000" });
    const user = await registerUser(t);
    const big = JSON.stringify({ article: { title: "Big", description: "d", body: "x".repeat(20_000) } });
    const declared = await t.request("POST", "/api/articles", { token: user.token, body: big });
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const streamed = await t.request("POST", "/api/articles", { token: user.token, body: stream });
    expect(streamed.status).toBe(413);
    expect(await count(t, "articles")).toBe(0);
  });

  test("deeply nested JSON is a 4xx, never a 500 or a hang, and changes nothing", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const depth = 100_000;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const bodies = [
      nested,
      `{"user":{"bio":"x","extra":${nested}}}`,
      `{"user":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`,
    ];
    for (const body of bodies) {
      const res = await t.request("PUT", "/api/user", { token: user.token, body });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ errors: { body: ["is nested too deeply (maximum depth is 32)"] } });
    }
    // Brackets inside strings are text, not nesting.
    const bio = "[{".repeat(1000);
    expect((await t.request("PUT", "/api/user", { token: user.token, body: { user: { bio } } })).status).toBe(
      200,
    );
    await t.request("PUT", "/api/user", { token: user.token, body: { user: { bio: null } } });
    expect(
      (await row<{ bio: string | null }>(t, "select bio from users where id = ?", user.id))!.bio,
    ).toBeNull();
  });

  test("non-JSON bodies are 415 on JSON routes", async () => {
    const t = await createTestApp();
    const res = await t.request("POST", "/api/users/login", {
      body: "user[email]=a&user[password]=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
  });

  test.each([
    ["username", "PUT", "/api/user", { user: { username: "u".repeat(65) } }],
    ["bio", "PUT", "/api/user", { user: { bio: "b".repeat(4_001) } }],
    ["image", "PUT", "/api/user", { user: { image: `https://example.com/${"i".repeat(2_048)}` } }],
    ["password", "PUT", "/api/user", { user: { password: "p".repeat(257) } }],
    ["title", "POST", "/api/articles", { article: { title: "t".repeat(257), description: "d", body: "b" } }],
    [
      "description",
      "POST",
      "/api/articles",
      { article: { title: "t", description: "d".repeat(1_025), body: "b" } },
    ],
    [
      "body",
      "POST",
      "/api/articles",
      { article: { title: "t", description: "d", body: "b".repeat(100_001) } },
    ],
    [
      "tagList",
      "POST",
      "/api/articles",
      {
        article: {
          title: "t",
          description: "d",
          body: "b",
          tagList: Array.from({ length: 21 }, (_, i) => `t${i}`),
        },
      },
    ],
    [
      "tagList",
      "POST",
      "/api/articles",
      { article: { title: "t", description: "d", body: "b", tagList: ["x".repeat(65)] } },
    ],
    ["refreshToken", "POST", "/api/users/refresh", { refreshToken: "r".repeat(4_097) }],
  ])("oversized %s is 422 naming the field and changes nothing", async (field, method, path, body) => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const before = JSON.stringify([
      await t.db.all("select * from users order by id"),
      await count(t, "articles"),
      await count(t, "refresh_tokens"),
    ]);
    const res = await t.request(method, path, { token: user.token, body });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toContain(field);
    expect(
      JSON.stringify([
        await t.db.all("select * from users order by id"),
        await count(t, "articles"),
        await count(t, "refresh_tokens"),
      ]),
    ).toBe(before);
  });

  test("an oversized comment is 422 and not stored", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    const res = await t.request("POST", `/api/articles/${article.slug}/comments`, {
      token: user.token,
      body: { comment: { body: "c".repeat(10_001) } },
    });
    expect(res.status).toBe(422);
    expect(await count(t, "comments")).toBe(0);
  });
});

/**
 * Request parsing and the error envelope: malformed JSON, wrong content types, oversize and deeply nested
 * bodies, unknown routes, unexpected failures. Nothing a client sent (a password) and nothing internal (a
 * stack, Elysia's default validation text) may appear in a response.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  count,
  createArticle,
  createTestApp,
  envelope,
  registerUser,
  row,
  type TestApp,
  type TestResponse,
  type TestUser,
  unique,
} from "../helpers/app.ts";

const SECRET_PASSWORD = "Sup3r-Secret-Passw0rd-do-not-echo";

/** Internal or Elysia-default text that must never reach a client. */
const LEAKS = [
  SECRET_PASSWORD,
  "Expected",
  "property",
  "stack",
  "    at ",
  ".ts:",
  "node_modules",
  "TypeBox",
  "SQLITE",
  "SyntaxError",
  "JSON Parse error",
];

function expectEnvelope(res: TestResponse, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
  expect(Object.keys(res.body)).toEqual(["errors"]);
  const fields = Object.entries(res.body.errors as Record<string, unknown>);
  expect(fields.length).toBeGreaterThan(0);
  for (const [, messages] of fields) {
    expect(Array.isArray(messages)).toBe(true);
    for (const m of messages as unknown[]) expect(typeof m).toBe("string");
  }
  for (const leak of LEAKS) expect(res.text).not.toContain(leak);
}

describe("malformed and mistyped bodies", () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t);
  });

  test("malformed JSON → 422 envelope; nothing created", async () => {
    const before = await count(t, "users");
    for (const body of ['{"user": {', "{bad json}", '{"user":{"username":"x",}}', "undefined"]) {
      const res = await t.request("POST", "/api/users", { body });
      expectEnvelope(res, 422);
      expect(res.body).toEqual(envelope("body", "is not valid JSON"));
    }
    expect(await count(t, "users")).toBe(before);
  });

  test("a NUL character in any string (or key) → 422 naming the field on every engine; nothing created", async () => {
    const before = await count(t, "articles");
    for (const [body, field] of [
      ['{"article":{"title":"a\\u0000b","description":"d","body":"b"}}', "title"],
      ['{"article":{"title":"t","description":"d","body":"b","tagList":["x\\u0000"]}}', "tagList"],
      ['{"article":{"title":"t","description":"d","body":"b","x\\u0000":1}}', "body"],
    ] as const) {
      const res = await t.request("POST", "/api/articles", { token: user.token, body });
      expectEnvelope(res, 422);
      expect(res.body).toEqual(envelope(field, "is invalid"));
    }
    expect(await count(t, "articles")).toBe(before);
    const login = await t.request("POST", "/api/users/login", {
      body: '{"user":{"email":"\\u0000","password":"x"}}',
    });
    expectEnvelope(login, 422);
    // The escape as text (an escaped backslash, then u0000) is no NUL: accepted.
    const text = await t.request("POST", "/api/articles", {
      token: user.token,
      body: '{"article":{"title":"About \\\\u0000","description":"d","body":"b"}}',
    });
    expect(text.status).toBe(201);
    expect(text.body.article.title).toBe("About \\u0000");
  });

  test("a NUL (%00) in a path → 400; in a list filter it matches nothing (200, empty) on every engine", async () => {
    for (const path of ["/api/profiles/a%00b", "/api/articles/x%00y", "/api/articles/x%00y/comments"]) {
      const res = await t.request("GET", path);
      expectEnvelope(res, 400);
      expect(res.body).toEqual(envelope("request", "must not contain NUL (%00) in its path"));
    }
    for (const query of ["author=%00", "favorited=a%00", "tag=%00x"]) {
      const res = await t.request("GET", `/api/articles?${query}`);
      expect([query, res.status, res.body]).toEqual([query, 200, { articles: [], articlesCount: 0 }]);
    }
  });

  test("an empty JSON body → 422", async () => {
    const res = await t.request("POST", "/api/users", { body: "" });
    expectEnvelope(res, 422);
  });

  test.each([
    ["a JSON null", "null"],
    ["a JSON array", "[]"],
    ["a JSON number", "42"],
    ["a string user", '{"user":"admin"}'],
    ["numbers for strings", '{"user":{"username":1,"email":2,"password":3}}'],
    ["arrays for strings", '{"user":{"username":["a"],"email":["b"],"password":["c"]}}'],
    ["objects for strings", '{"user":{"username":{},"email":{},"password":{}}}'],
  ])("%s → 422 envelope, nothing created", async (_name, body) => {
    const before = await count(t, "users");
    const res = await t.request("POST", "/api/users", { body });
    expectEnvelope(res, 422);
    expect(await count(t, "users")).toBe(before);
  });

  test("wrong types on article and comment bodies → 422 envelope", async () => {
    const a = await createArticle(t, user.token);
    const cases: [string, string, unknown][] = [
      ["POST", "/api/articles", { article: { title: 1, description: true, body: null } }],
      ["POST", "/api/articles", { article: { title: "t", description: "d", body: "b", tagList: "x" } }],
      ["POST", "/api/articles", { article: { title: "t", description: "d", body: "b", tagList: [1, 2] } }],
      ["PUT", `/api/articles/${a.slug}`, { article: { title: 5 } }],
      ["POST", `/api/articles/${a.slug}/comments`, { comment: { body: 5 } }],
      ["POST", `/api/articles/${a.slug}/comments`, { comment: "hello" }],
    ];
    for (const [method, path, body] of cases) {
      const res = await t.request(method, path, { token: user.token, body });
      expectEnvelope(res, 422);
    }
    const read = await t.request("GET", `/api/articles/${a.slug}`);
    expect(read.body.article.title).toBe(a.title);
  });

  // `{"toString": 1}` in place of a string made Elysia's validation message (`${value}`) throw: a 500.
  test.each([
    ["login", "POST", "/api/users/login", '{"user":{"email":"a@b.co","password":{"toString":1}}}'],
    [
      "register",
      "POST",
      "/api/users",
      '{"user":{"username":{"toString":1},"email":"x@y.co","password":"p"}}',
    ],
    ["refresh", "POST", "/api/users/refresh", '{"refreshToken":{"toString":1,"valueOf":1}}'],
    [
      "article",
      "POST",
      "/api/articles",
      '{"article":{"title":[{"toString":1}],"description":"d","body":"b"}}',
    ],
    ["comment", "POST", "/api/articles/x/comments", '{"comment":{"body":{"toString":"x"}}}'],
    [
      "escaped key",
      "POST",
      "/api/users/login",
      '{"user":{"email":"a@b.co","password":{"to\\u0053tring":1}}}',
    ],
    [
      "__proto__",
      "POST",
      "/api/users",
      '{"user":{"username":"p1","email":"p1@y.co","password":"password-1"},"__proto__":{"role":"admin"}}',
    ],
    ["constructor", "PUT", "/api/user", '{"user":{"bio":"b","constructor":{"prototype":{"role":"admin"}}}}'],
  ])("a key shadowing an inherited member (%s) → 422, nothing written", async (_name, method, path, body) => {
    const users = await count(t, "users");
    const articles = await count(t, "articles");
    const res = await t.request(method, path, { token: user.token, body });
    expectEnvelope(res, 422);
    expect(res.body.errors.body[0]).toMatch(
      /^must not use the reserved key "(toString|__proto__|constructor)"$/,
    );
    expect(await count(t, "users")).toBe(users);
    expect(await count(t, "articles")).toBe(articles);
    expect(await row(t, "select bio from users where id = ?", user.id)).toEqual({ bio: null });
  });

  test("deeply nested JSON, unclosed (100k levels of `[`) is a 4xx", async () => {
    const res = await t.request("POST", "/api/users", { body: "[".repeat(100_000) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectEnvelope(res, res.status);
  });

  test("deeply nested JSON inside a field (50k levels, valid) is a 4xx, not a 500", async () => {
    const body = `{"user":{"username":${"[".repeat(50_000)}${"]".repeat(50_000)},"email":"n@example.com","password":"password-123"}}`;
    const res = await t.request("POST", "/api/users", { body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectEnvelope(res, res.status);
  });

  // Generous timeout: without a depth limit the validator takes seconds on this 200 KB body.
  test("deeply nested JSON, valid (100k levels of `[]`) is a 4xx, not a 500", {
    timeout: 30_000,
  }, async () => {
    const res = await t.request("POST", "/api/users", {
      body: `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectEnvelope(res, res.status);
  });

  test("application/json with a charset and +json types are accepted", async () => {
    for (const type of ["application/json; charset=utf-8", "application/vnd.api+json", "Application/JSON"]) {
      const username = unique("ct");
      const res = await t.request("POST", "/api/users", {
        body: JSON.stringify({
          user: { username, email: `${username}@example.com`, password: "password-123" },
        }),
        headers: { "content-type": type },
      });
      expect(res.status).toBe(201);
    }
  });
});

describe("content types other than JSON", () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t);
  });

  test.each([
    [
      "application/x-www-form-urlencoded",
      "user[username]=formuser&user[email]=f%40x.io&user[password]=password-123",
    ],
    ["text/plain", '{"user":{"username":"plainuser","email":"p@x.io","password":"password-123"}}'],
    [
      "multipart/form-data; boundary=XYZ",
      '--XYZ\r\nContent-Disposition: form-data; name="user"\r\n\r\nx\r\n--XYZ--',
    ],
    ["application/xml", "<user><username>x</username></user>"],
  ])("%s on a JSON route → 415, nothing created", async (type, body) => {
    const users = await count(t, "users");
    const res = await t.request("POST", "/api/users", { body, headers: { "content-type": type } });
    expectEnvelope(res, 415);
    expect(await count(t, "users")).toBe(users);

    const articles = await count(t, "articles");
    const art = await t.request("POST", "/api/articles", {
      token: user.token,
      body: "article[title]=t&article[description]=d&article[body]=b",
      headers: { "content-type": type },
    });
    expectEnvelope(art, 415);
    expect(await count(t, "articles")).toBe(articles);
  });

  test("415 on update leaves the user unchanged", async () => {
    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: "user[bio]=hacked",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectEnvelope(res, 415);
    const me = await t.request("GET", "/api/user", { token: user.token });
    expect(me.body.user.bio).toBeNull();
  });
});

describe("body size limit (BODY_LIMIT_BYTES=2048)", () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT_BYTES: "2048" });
    user = await registerUser(t);
  });

  const bigArticle = () =>
    JSON.stringify({ article: { title: unique("Big"), description: "d", body: "x".repeat(4000) } });

  test("a body just under the limit is accepted", async () => {
    const body = JSON.stringify({
      article: { title: unique("Fits"), description: "d", body: "x".repeat(1800) },
    });
    expect(Buffer.byteLength(body)).toBeLessThan(2048);
    const res = await t.request("POST", "/api/articles", { token: user.token, body });
    expect(res.status).toBe(201);
  });

  test("over the limit with Content-Length → 413 envelope, nothing created", async () => {
    const before = await count(t, "articles");
    const body = bigArticle();
    const res = await t.request("POST", "/api/articles", {
      token: user.token,
      body,
      headers: { "content-length": String(Buffer.byteLength(body)) },
    });
    expectEnvelope(res, 413);
    expect(await count(t, "articles")).toBe(before);
  });

  test("over the limit as a chunked stream without Content-Length → 413, and reading stops early", async () => {
    const before = await count(t, "articles");
    const chunk = new TextEncoder().encode(" ".repeat(512));
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled === 1) controller.enqueue(new TextEncoder().encode('{"article":{"title":"t","body":"'));
        else if (pulled > 1000) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const req = t.buildRequest("POST", "/api/articles", { token: user.token, body: stream });
    expect(req.headers.get("content-length")).toBeNull();
    const res = await t.app.handle(req);
    const text = await res.text();
    expect(res.status).toBe(413);
    expect(JSON.parse(text)).toEqual({ errors: { body: [expect.any(String)] } });
    expect(pulled).toBeLessThan(50);
    expect(await count(t, "articles")).toBe(before);
  });

  test("413 also on register, and the password is not echoed", async () => {
    const body = JSON.stringify({
      user: {
        username: unique("big"),
        email: "big@example.com",
        password: SECRET_PASSWORD,
        bio: "b".repeat(3000),
      },
    });
    const res = await t.request("POST", "/api/users", { body });
    expectEnvelope(res, 413);
  });
});

describe("nothing submitted is echoed; no internals leak", () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: "trace" });
    user = await registerUser(t, { password: SECRET_PASSWORD });
  });

  test("register errors do not contain the password", async () => {
    const attempts: unknown[] = [
      { user: { username: "", email: "x@example.com", password: SECRET_PASSWORD } },
      { user: { username: unique("p"), email: "not-an-email", password: SECRET_PASSWORD } },
      { user: { username: user.username, email: "new@example.com", password: SECRET_PASSWORD } },
      { user: { username: "bad name!", email: "y@example.com", password: SECRET_PASSWORD } },
      { user: { username: unique("p"), email: "z@example.com", password: SECRET_PASSWORD.repeat(20) } },
      { user: { username: unique("p"), email: "z@example.com", password: 12345678 } },
    ];
    for (const body of attempts) {
      const res = await t.request("POST", "/api/users", { body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectEnvelope(res, res.status);
    }
  });

  test("login errors do not contain the password", async () => {
    for (const password of [`${SECRET_PASSWORD}-wrong`, SECRET_PASSWORD.repeat(20)]) {
      const res = await t.request("POST", "/api/users/login", {
        body: { user: { email: user.email, password } },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectEnvelope(res, res.status);
    }
    const unknown = await t.request("POST", "/api/users/login", {
      body: { user: { email: "nobody@example.com", password: SECRET_PASSWORD } },
    });
    expectEnvelope(unknown, 401);
  });

  test("update errors do not contain the password", async () => {
    for (const password of ["Pw-7x!q", SECRET_PASSWORD.repeat(20)]) {
      const res = await t.request("PUT", "/api/user", { token: user.token, body: { user: { password } } });
      expectEnvelope(res, 422);
      expect(res.text).not.toContain(password);
    }
    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { password: SECRET_PASSWORD, image: "ftp://x" } },
    });
    expectEnvelope(res, 422);
  });

  test("successful responses never carry the password or its hash either", async () => {
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: SECRET_PASSWORD } },
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(SECRET_PASSWORD);
    expect(res.text).not.toContain("argon2");
    const me = await t.request("GET", "/api/user", { token: user.token });
    expect(me.text).not.toContain("argon2");
  });

  test("the logs never contain the password (LOG_LEVEL=trace)", async () => {
    for (const line of t.logs) expect(line).not.toContain(SECRET_PASSWORD);
  });

  test("query and path validation errors are envelopes without Elysia's default text", async () => {
    const a = await createArticle(t, user.token);
    const cases: [string, string][] = [
      ["GET", "/api/articles?limit=abc"],
      ["GET", "/api/articles?offset=-3"],
      ["GET", `/api/articles/${a.slug}/comments?limit=x`],
      ["DELETE", `/api/articles/${a.slug}/comments/not-a-number`],
      ["GET", `/api/articles/${"s".repeat(600)}`],
      ["GET", `/api/profiles/${"u".repeat(100)}`],
    ];
    for (const [method, path] of cases) {
      const res = await t.request(method, path, { token: user.token });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectEnvelope(res, res.status);
    }
  });
});

describe("routing and unexpected failures", () => {
  test("unknown routes → 404 envelope", async () => {
    const t = await createTestApp();
    for (const [method, path] of [
      ["GET", "/api/nothing-here"],
      ["GET", "/"],
      ["POST", "/api/articles/x/y/z"],
      ["GET", "/api/users"],
    ] as const) {
      const res = await t.request(method, path);
      expectEnvelope(res, 404);
    }
  });

  test("a known path with an unsupported method → 404 or 405 envelope", async () => {
    const t = await createTestApp();
    const res = await t.request("PATCH", "/api/user", { body: { user: {} } });
    expect([404, 405]).toContain(res.status);
    expectEnvelope(res, res.status);
  });

  test("an unexpected failure → generic 500 envelope, logged, nothing internal in the body", async () => {
    const t = await createTestApp({ LOG_LEVEL: "error" });
    const u = await registerUser(t);
    await t.db.run("alter table tags rename to tags_gone"); // the tag list's query now fails
    const res = await t.request("GET", "/api/tags", { token: u.token });
    expectEnvelope(res, 500);
    expect(res.body).toEqual(envelope("server", "internal error"));
    expect(t.logs.join("\n")).toContain("unhandled error");
  });
});

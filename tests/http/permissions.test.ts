/**
 * Who may do what. The matrix: every route × { no token, malformed tokens, forged tokens, another user where
 * ownership applies, editors and viewers on admin routes }, each answer checked and the database checked
 * unchanged; the route tables are in ./permission-routes.ts and every registered route must be in one.
 * Then roles (a viewer reads, comments, favorites and follows but cannot write articles; an admin
 * moderates; a role claimed in a token counts for nothing) and the order of the checks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  registerUser,
  row,
  setRole,
  TEST_SECRET,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";
import { decodeClaims, signToken } from "../helpers/jwt.ts";
import { backupProblem } from "../ops/helpers.ts";
import {
  ADMIN,
  type Fixture,
  fixture,
  label,
  OPTIONAL,
  OWN_CREDENTIAL,
  PROTECTED,
  PUBLIC,
  pathOf,
  STREAMS,
  snapshot,
} from "./permission-routes.ts";

/** Bad Authorization headers, given a real token to forge from. */
/** The challenge of a 401 without a token, and of one whose token was refused (RFC 6750). */
const MISSING_CHALLENGE = 'Token realm="quire", Bearer realm="quire"';
const refusedChallenge = (message: string) => {
  const params = `realm="quire", error="invalid_token", error_description="the access token ${message}"`;
  return `Token ${params}, Bearer ${params}`;
};

/** [why, Authorization header, expected message]: only a token this server signed can have "expired". */
function badHeaders(realToken: string): [string, string, string][] {
  const claims = decodeClaims(realToken);
  const future = Math.floor(Date.now() / 1000) + 3600;
  return [
    ["not a JWT", "Token not-a-jwt", "is invalid"],
    ["three junk segments", "Token abc.def.ghi", "is invalid"],
    ["scheme only", "Token", "is invalid"],
    ["unknown scheme", `Basic ${realToken}`, "is invalid"],
    ["two tokens", `Token ${realToken} ${realToken}`, "is invalid"],
    ["truncated signature", `Token ${realToken.slice(0, -4)}`, "is invalid"],
    [
      "signed with another secret",
      `Token ${signToken(claims, "another-secret-another-secret-another-secret")}`,
      "is invalid",
    ],
    ["alg none", `Token ${signToken(claims, "", "none")}`, "is invalid"],
    ["HS512 with the real secret", `Token ${signToken(claims, TEST_SECRET, "HS512")}`, "is invalid"],
    ["typ not access", `Token ${signToken({ ...claims, typ: "refresh" }, TEST_SECRET)}`, "is invalid"],
    ["wrong audience", `Token ${signToken({ ...claims, aud: "someone-else" }, TEST_SECRET)}`, "is invalid"],
    ["wrong issuer", `Token ${signToken({ ...claims, iss: "someone-else" }, TEST_SECRET)}`, "is invalid"],
    [
      "unknown session",
      `Token ${signToken({ ...claims, sid: "no-such-session" }, TEST_SECRET)}`,
      "is invalid",
    ],
    ["sub of another user", `Token ${signToken({ ...claims, sub: "999999" }, TEST_SECRET)}`, "is invalid"],
    ["no exp", `Token ${signToken({ ...claims, exp: undefined }, TEST_SECRET)}`, "is invalid"],
    [
      "expired",
      `Token ${signToken({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 * 24 * 400 }, TEST_SECRET)}`,
      "has expired",
    ],
    [
      "not yet valid",
      `Token ${signToken({ ...claims, nbf: future + 3600 * 24 * 400, exp: future + 3600 * 24 * 500 }, TEST_SECRET)}`,
      "is invalid",
    ],
  ];
}

describe("the token forger is sound", () => {
  test("a token re-signed with the real secret and unchanged claims is accepted", async () => {
    const t = await createTestApp();
    const u = await registerUser(t);
    const resigned = signToken(decodeClaims(u.token), TEST_SECRET);
    const res = await t.request("GET", "/api/user", { headers: { authorization: `Token ${resigned}` } });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(u.username);
  });
});

describe("protected routes × missing and bad tokens", () => {
  let t: TestApp;
  let f: Fixture;
  beforeAll(async () => {
    t = await createTestApp();
    f = await fixture(t);
  });

  describe.each(PROTECTED.map((r) => [label(r), r] as const))("%s", (_name, route) => {
    test("no token → 401 is missing, nothing changes", async () => {
      const before = await snapshot(t);
      const res = await t.request(route.method, pathOf(route, f), { body: route.body });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(envelope("token", "is missing"));
      expect(res.headers.get("www-authenticate")).toBe(MISSING_CHALLENGE);
      expect(await snapshot(t)).toEqual(before);
    });

    test("every malformed or forged token → 401 is invalid (or has expired), nothing changes", async () => {
      const before = await snapshot(t);
      for (const [why, authorization, message] of badHeaders(f.other.token)) {
        const res = await t.request(route.method, pathOf(route, f), {
          body: route.body,
          headers: { authorization },
        });
        expect({
          why,
          status: res.status,
          body: res.body,
          challenge: res.headers.get("www-authenticate"),
        }).toEqual({
          why,
          status: 401,
          body: envelope("token", message),
          challenge: refusedChallenge(message),
        });
      }
      expect(await snapshot(t)).toEqual(before);
    });

    if (route.owned) {
      test(`another user → 403 ${route.owned} forbidden, nothing changes`, async () => {
        const before = await snapshot(t);
        const res = await t.request(route.method, pathOf(route, f), {
          token: f.other.token,
          body: route.body,
        });
        expect(res.status).toBe(403);
        expect(res.body).toEqual(envelope(route.owned!, "forbidden"));
        expect(await snapshot(t)).toEqual(before);
      });
    }
  });
});

describe("optional-auth routes × bad tokens", () => {
  let t: TestApp;
  let f: Fixture;
  beforeAll(async () => {
    t = await createTestApp();
    f = await fixture(t);
  });

  describe.each(OPTIONAL.map((r) => [label(r), r] as const))("%s", (_name, route) => {
    test("no token → 200", async () => {
      const res = await t.request(route.method, pathOf(route, f));
      expect(res.status).toBe(200);
    });

    test("a present but bad token → 401 is invalid (never silently anonymous)", async () => {
      for (const [why, authorization, message] of badHeaders(f.other.token)) {
        const res = await t.request(route.method, pathOf(route, f), { headers: { authorization } });
        expect({
          why,
          status: res.status,
          body: res.body,
          challenge: res.headers.get("www-authenticate"),
        }).toEqual({
          why,
          status: 401,
          body: envelope("token", message),
          challenge: refusedChallenge(message),
        });
      }
    });
  });
});

describe("admin routes × missing and bad tokens, editors and viewers", () => {
  let t: TestApp;
  let f: Fixture;
  let viewer: TestUser;
  // The admin control below really takes a backup: into a directory of its own.
  const dataDir = mkdtempSync(join(tmpdir(), "quire-perm-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  beforeAll(async () => {
    t = await createTestApp({ DATA_DIR: dataDir });
    f = await fixture(t);
    viewer = await registerUser(t);
    await setRole(t, viewer.id, "viewer");
  });

  describe.each(ADMIN.map((r) => [label(r), r] as const))("%s", (_name, route) => {
    test("no token → 401 is missing; bad tokens → 401 is invalid; nothing changes", async () => {
      const before = await snapshot(t);
      const res = await t.request(route.method, pathOf(route, f), { body: route.body });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(envelope("token", "is missing"));
      expect(res.headers.get("www-authenticate")).toBe(MISSING_CHALLENGE);
      for (const [why, authorization] of badHeaders(f.owner.token)) {
        const bad = await t.request(route.method, pathOf(route, f), {
          body: route.body,
          headers: { authorization },
        });
        expect({ why, status: bad.status }).toEqual({ why, status: 401 });
      }
      expect(await snapshot(t)).toEqual(before);
    });

    test("an editor (even the resource's owner) and a viewer → 403 admin forbidden; nothing changes", async () => {
      const before = await snapshot(t);
      for (const token of [f.owner.token, f.other.token, viewer.token]) {
        const res = await t.request(route.method, pathOf(route, f), { token, body: route.body });
        expect(res.status).toBe(403);
        expect(res.body).toEqual(envelope("admin", "forbidden"));
      }
      expect(await snapshot(t)).toEqual(before);
    });
  });

  test("control: an admin gets past authentication and authorization on every admin route", async () => {
    const canBackUp = (await backupProblem()) === undefined;
    const admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
    const statuses: Record<string, number> = {};
    for (const route of ADMIN) {
      const res = await t.request(route.method, pathOf(route, f), { token: admin.token, body: route.body });
      statuses[label(route)] = res.status;
    }
    expect(Object.entries(statuses).filter(([, status]) => status === 401 || status === 403)).toEqual([]);
    // Parameterless reads answer, and the writes really happened (unknown webhook or job ids may 404).
    for (const route of ADMIN.filter((r) => r.method === "GET" && !r.pattern.includes(":"))) {
      expect({ route: label(route), status: statuses[label(route)] }).toEqual({
        route: label(route),
        status: 200,
      });
    }
    expect(statuses).toMatchObject({
      "DELETE /api/admin/comments/:id": 204,
      "DELETE /api/admin/articles/:slug": 204,
      "PATCH /api/admin/users/:username": 200,
      // A run whose pg_dump cannot dump its Postgres checks the route's authorization above only.
      ...(canBackUp ? { "POST /api/admin/backups": 201 } : {}),
      "DELETE /api/admin/users/:username": 204,
    });
    expect(await count(t, "comments where id = ?", f.commentId)).toBe(0);
    expect(await count(t, "articles where slug = ?", f.slug)).toBe(0);
    const changed = (
      await t.db.all<{ action: string }>(
        "select action from audit_log where target_type = 'user' and target_id = ? order by id",
        String(f.owner.id),
      )
    ).map((r) => r.action);
    expect(changed).toEqual(expect.arrayContaining(["user.role_changed", "user.suspended", "user.deleted"]));
    expect(await count(t, "users where id = ?", f.owner.id)).toBe(0);
    const backups = join(dataDir, "backups");
    expect(existsSync(backups) ? readdirSync(backups).filter((n) => !n.endsWith(".tmp")) : []).toHaveLength(
      canBackUp ? 1 : 0,
    );
  });
});

describe("route inventory", () => {
  test("every registered route is classified in this matrix (add new routes to a table above)", async () => {
    const t = await createTestApp();
    const known = new Set(
      [...PROTECTED, ...ADMIN, ...OPTIONAL].map(label).concat(PUBLIC, STREAMS, OWN_CREDENTIAL),
    );
    const registered = t.app.routes
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !r.includes(" /openapi"))
      .filter((r) => !r.startsWith("OPTIONS ") && !r.startsWith("HEAD "));
    const unclassified = registered.filter((r) => !known.has(r));
    expect(unclassified).toEqual([]);
    // And the tables name no route that does not exist.
    expect([...known].filter((r) => !registered.includes(r))).toEqual([]);
  });
});

describe("tokens of deleted or ended accounts", () => {
  test("a deleted user's token → 401 is invalid", async () => {
    const t = await createTestApp();
    const u = await registerUser(t);
    expect((await t.request("GET", "/api/user", { token: u.token })).status).toBe(200);
    await t.db.run("delete from users where id = ?", u.id);
    t.ctx.sessions.cache.clear();
    const res = await t.request("GET", "/api/user", { token: u.token });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is invalid"));
  });
});

describe("roles", () => {
  let t: TestApp;
  let editor: TestUser;
  let viewer: TestUser;
  let admin: TestUser;
  let viewerOwnSlug: string;
  beforeAll(async () => {
    t = await createTestApp();
    editor = await registerUser(t);
    viewer = await registerUser(t);
    admin = await registerUser(t);
    // Written while still an editor, then demoted: a viewer may no longer change it.
    viewerOwnSlug = (await createArticle(t, viewer.token)).slug;
    await setRole(t, viewer.id, "viewer");
    await setRole(t, admin.id, "admin");
  });

  test("viewer: POST /api/articles → 403 article forbidden, nothing created", async () => {
    const before = await count(t, "articles");
    const res = await t.request("POST", "/api/articles", {
      token: viewer.token,
      body: { article: { title: "Not allowed", description: "d", body: "b" } },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("article", "forbidden"));
    expect(await count(t, "articles")).toBe(before);
  });

  test("viewer: may not update or delete even an article they wrote", async () => {
    const before = await snapshot(t);
    const put = await t.request("PUT", `/api/articles/${viewerOwnSlug}`, {
      token: viewer.token,
      body: { article: { body: "edited" } },
    });
    expect(put.status).toBe(403);
    expect(put.body).toEqual(envelope("article", "forbidden"));
    const del = await t.request("DELETE", `/api/articles/${viewerOwnSlug}`, { token: viewer.token });
    expect(del.status).toBe(403);
    expect(await snapshot(t)).toEqual(before);
  });

  test("viewer: may comment, delete their comment, favorite, follow and read the feed", async () => {
    const a = await createArticle(t, editor.token);
    const comment = await t.request("POST", `/api/articles/${a.slug}/comments`, {
      token: viewer.token,
      body: { comment: { body: "viewer says hi" } },
    });
    expect(comment.status).toBe(201);
    expect(comment.body.comment.author.username).toBe(viewer.username);

    const fav = await t.request("POST", `/api/articles/${a.slug}/favorite`, { token: viewer.token });
    expect(fav.status).toBe(200);
    expect(fav.body.article).toMatchObject({ favorited: true, favoritesCount: 1 });

    const fol = await t.request("POST", `/api/profiles/${editor.username}/follow`, { token: viewer.token });
    expect(fol.status).toBe(200);
    expect(fol.body.profile.following).toBe(true);

    const feed = await t.request("GET", "/api/articles/feed", { token: viewer.token });
    expect(feed.status).toBe(200);
    expect(feed.body.articles.map((x: { slug: string }) => x.slug)).toContain(a.slug);

    const del = await t.request("DELETE", `/api/articles/${a.slug}/comments/${comment.body.comment.id}`, {
      token: viewer.token,
    });
    expect(del.status).toBe(204);
    const unfav = await t.request("DELETE", `/api/articles/${a.slug}/favorite`, { token: viewer.token });
    expect(unfav.body.article.favoritesCount).toBe(0);
    const unfol = await t.request("DELETE", `/api/profiles/${editor.username}/follow`, {
      token: viewer.token,
    });
    expect(unfol.body.profile.following).toBe(false);
  });

  test("editor: may not moderate someone else's article or comment", async () => {
    const a = await createArticle(t, admin.token);
    const c = await addComment(t, admin.token, a.slug);
    const put = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: editor.token,
      body: { article: { body: "x" } },
    });
    expect(put.status).toBe(403);
    const del = await t.request("DELETE", `/api/articles/${a.slug}/comments/${c.id}`, {
      token: editor.token,
    });
    expect(del.status).toBe(403);
    expect(await count(t, "comments where id = ?", c.id)).toBe(1);
  });

  test("a role claimed in a validly signed token counts for nothing: the role comes from the database", async () => {
    const token = signToken({ ...decodeClaims(editor.token), role: "admin", admin: true }, TEST_SECRET);
    expect((await t.request("GET", "/api/user", { token })).status).toBe(200);
    const res = await t.request("GET", "/api/admin/users", { token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("admin", "forbidden"));
    expect(await row(t, "select role from users where id = ?", editor.id)).toEqual({ role: "editor" });
  });

  test("admin: may update and delete someone else's article and comment", async () => {
    const a = await createArticle(t, editor.token);
    const c = await addComment(t, editor.token, a.slug);
    const put = await t.request("PUT", `/api/articles/${a.slug}`, {
      token: admin.token,
      body: { article: { body: "moderated" } },
    });
    expect(put.status).toBe(200);
    expect(put.body.article).toMatchObject({ body: "moderated", author: { username: editor.username } });
    const delC = await t.request("DELETE", `/api/articles/${a.slug}/comments/${c.id}`, {
      token: admin.token,
    });
    expect(delC.status).toBe(204);
    expect(await count(t, "comments where id = ?", c.id)).toBe(0);
    const delA = await t.request("DELETE", `/api/articles/${a.slug}`, { token: admin.token });
    expect(delA.status).toBe(204);
    expect(await row(t, "select id from articles where slug = ?", a.slug)).toBeNull();
  });
});

describe("check order: 401 → 422 (shape) → 404 → 403", () => {
  let t: TestApp;
  let f: Fixture;
  beforeAll(async () => {
    t = await createTestApp();
    f = await fixture(t);
  });

  test("no token with an invalid body → 401, not 422", async () => {
    const cases: [string, string, unknown][] = [
      ["POST", "/api/articles", { article: { title: "" } }],
      ["PUT", `/api/articles/${f.slug}`, { article: { title: "" } }],
      ["PUT", "/api/articles/some-slug", { article: { title: "" } }],
      ["POST", `/api/articles/${f.slug}/comments`, { comment: { body: "" } }],
      ["PUT", "/api/user", { user: { email: "" } }],
    ];
    for (const [method, path, body] of cases) {
      const res = await t.request(method, path, { body });
      expect({ method, path, status: res.status, body: res.body }).toEqual({
        method,
        path,
        status: 401,
        body: envelope("token", "is missing"),
      });
    }
  });

  test("no token with a malformed comment id → 401, not 422", async () => {
    const res = await t.request("DELETE", "/api/articles/some-slug/comments/abc");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  // Decision: the shape of the request is checked right after authentication, before the target is looked
  // up. A malformed body is malformed whatever it targets; 404 and 403 then keep their relative order.
  test("unknown slug with an invalid body → 422 (shape before lookup), and nothing is created", async () => {
    const res = await t.request("PUT", "/api/articles/some-unknown-slug", {
      token: f.owner.token,
      body: { article: { title: "" } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("title", "can't be blank"));
    expect((await t.request("GET", "/api/articles/some-unknown-slug")).status).toBe(404);
  });

  test("a comment addressed through another article's URL → 404 (even the URL's owner), comment kept", async () => {
    const own = await createArticle(t, f.other.token);
    const res = await t.request("DELETE", `/api/articles/${own.slug}/comments/${f.commentId}`, {
      token: f.other.token,
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(envelope("comment", "not found"));
    expect(await count(t, "comments where id = ?", f.commentId)).toBe(1);
  });

  test("someone else's article with an invalid body → 422, and the article is unchanged", async () => {
    const before = await t.request("GET", `/api/articles/${f.slug}`);
    const res = await t.request("PUT", `/api/articles/${f.slug}`, {
      token: f.other.token,
      body: { article: { title: "" } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("title", "can't be blank"));
    expect((await t.request("GET", `/api/articles/${f.slug}`)).body).toEqual(before.body);
  });
});

/**
 * Broken object-level (BOLA) and function-level (BFLA) authorization: another user's article or comment,
 * and every admin route for anonymous, viewer and editor callers. Each refusal leaves the data unchanged.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  registerUser,
  row,
  setRole,
  TEST_SECRET,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let author: TestUser;
let intruder: TestUser;
let viewer: TestUser;
let editor: TestUser;
let admin: TestUser;
let slug: string;
let commentId: number;

/** Everything an admin route could change, to compare before and after a refused call. */
const snapshot = () =>
  JSON.stringify([
    t.sqlite.query("select id, role, suspended, bio from users order by id").all(),
    t.sqlite.query("select id, slug, title, body from articles order by id").all(),
    t.sqlite.query("select id, body from comments order by id").all(),
    count(t, "sessions where revoked_at is null"),
  ]);

beforeAll(async () => {
  t = await createTestApp();
  [author, intruder, viewer, editor, admin] = [
    await registerUser(t),
    await registerUser(t),
    await registerUser(t),
    await registerUser(t),
    await registerUser(t),
  ];
  setRole(t, viewer.id, "viewer");
  setRole(t, admin.id, "admin");
  const article = await createArticle(t, author.token, { title: "Owned by author" });
  slug = article.slug;
  commentId = (await addComment(t, author.token, slug, "the author's comment")).id;
});

describe("BOLA: another user's objects", () => {
  test("updating someone else's article: 403, article unchanged", async () => {
    const before = snapshot();
    const res = await t.request("PUT", `/api/articles/${slug}`, {
      token: intruder.token,
      body: { article: { title: "Hijacked", body: "x" } },
    });
    expect(res.status).toBe(403);
    expect(snapshot()).toBe(before);
  });

  test("deleting someone else's article: 403, article still there", async () => {
    const res = await t.request("DELETE", `/api/articles/${slug}`, { token: intruder.token });
    expect(res.status).toBe(403);
    expect(count(t, "articles where slug = ?", slug)).toBe(1);
  });

  test("deleting someone else's comment: 403, comment still there", async () => {
    const res = await t.request("DELETE", `/api/articles/${slug}/comments/${commentId}`, {
      token: intruder.token,
    });
    expect(res.status).toBe(403);
    expect(count(t, "comments where id = ?", commentId)).toBe(1);
  });

  test("deleting a comment through another article's URL: 404, comment still there", async () => {
    const own = await createArticle(t, intruder.token);
    const res = await t.request("DELETE", `/api/articles/${own.slug}/comments/${commentId}`, {
      token: intruder.token,
    });
    expect(res.status).toBe(404);
    expect(count(t, "comments where id = ?", commentId)).toBe(1);
  });

  test("a viewer cannot write articles (403), but may comment and favorite", async () => {
    const before = count(t, "articles");
    const res = await t.request("POST", "/api/articles", {
      token: viewer.token,
      body: { article: { title: "V", description: "d", body: "b" } },
    });
    expect(res.status).toBe(403);
    expect(count(t, "articles")).toBe(before);
    expect((await t.request("POST", `/api/articles/${slug}/favorite`, { token: viewer.token })).status).toBe(
      200,
    );
    await addComment(t, viewer.token, slug, "viewers comment");
  });
});

describe("BFLA: every admin route, for each caller that is not an admin", () => {
  const routes = (): [string, string, unknown?][] => [
    ["GET", "/api/admin/users"],
    ["PATCH", `/api/admin/users/${author.username}`, { role: "admin" }],
    ["PATCH", `/api/admin/users/${author.username}`, { suspended: true }],
    ["DELETE", `/api/admin/articles/${slug}`],
    ["DELETE", `/api/admin/comments/${commentId}`],
    ["GET", "/api/admin/audit"],
  ];
  const callers = (): [string, string | undefined, number][] => [
    ["anonymous", undefined, 401],
    ["viewer", viewer.token, 403],
    ["editor", editor.token, 403],
    ["editor who owns the objects", author.token, 403],
  ];

  test("each route × caller is refused and nothing changes", async () => {
    const before = snapshot();
    const auditBefore = count(t, "audit_log");
    let cases = 0;
    for (const [method, path, body] of routes()) {
      for (const [who, token, status] of callers()) {
        const res = await t.request(method, path, { token, ...(body !== undefined && { body }) });
        expect({ who, method, path, status: res.status }).toEqual({ who, method, path, status });
        expect(res.body.errors).toBeDefined();
        cases++;
      }
    }
    expect(cases).toBe(24);
    expect(snapshot()).toBe(before);
    expect(count(t, "audit_log")).toBe(auditBefore);
  });

  test("control: an admin gets through on every route", async () => {
    for (const [method, path] of routes().filter(([m]) => m === "GET")) {
      expect((await t.request(method, path, { token: admin.token })).status).toBe(200);
    }
    const res = await t.request("DELETE", `/api/admin/comments/${commentId}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(count(t, "comments where id = ?", commentId)).toBe(0);
  });

  test("a role claim in the token changes nothing: the role comes from the database", async () => {
    const claims = JSON.parse(Buffer.from(editor.token.split(".")[1]!, "base64url").toString());
    const token = await new SignJWT({ ...claims, role: "admin", admin: true })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await t.request("GET", "/api/user", { token })).status).toBe(200);
    const res = await t.request("GET", "/api/admin/users", { token });
    expect(res.status).toBe(403);
    expect(row<{ role: string }>(t, "select role from users where id = ?", editor.id)!.role).toBe("editor");
  });
});

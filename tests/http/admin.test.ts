/** The admin API: users (search, filters, paging, role, suspension, last-admin rule), moderation, audit. */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  registerUser,
  row,
  setRole,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerUser(t, { username: "root_admin" });
  await setRole(t, admin.id, "admin");
  alice = await registerUser(t, { username: "alice_adm", email: "alice@example.org" });
  bob = await registerUser(t, { username: "bob_adm" });
});

const get = (path: string) => t.request("GET", path, { token: admin.token });
const patch = (username: string, body: unknown, token = admin.token) =>
  t.request("PATCH", `/api/admin/users/${username}`, { token, body });

describe("GET /api/admin/users", () => {
  test("lists every user with role and suspension, oldest first, with the total", async () => {
    const res = await get("/api/admin/users");
    expect(res.status).toBe(200);
    expect(res.body.usersCount).toBe(await count(t, "users"));
    expect(res.body.users[0]).toEqual({
      username: "root_admin",
      email: admin.email,
      bio: null,
      image: null,
      role: "admin",
      suspended: false,
      emailVerified: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(res.body.users[0].passwordHash).toBeUndefined();
  });

  test("q matches username or email, any case; wildcards are literal", async () => {
    expect(
      (await get("/api/admin/users?q=ALICE")).body.users.map((u: { username: string }) => u.username),
    ).toEqual(["alice_adm"]);
    expect((await get("/api/admin/users?q=example.org")).body.usersCount).toBe(1);
    expect((await get("/api/admin/users?q=%25")).body.usersCount).toBe(0);
    expect((await get("/api/admin/users?q=_adm")).body.usersCount).toBe(3);
    expect((await get("/api/admin/users?q=b_b")).body.usersCount).toBe(0); // "_" is not a wildcard
  });

  test("filters by role and suspended; limit/offset page with a stable total", async () => {
    expect(
      (await get("/api/admin/users?role=admin")).body.users.map((u: { username: string }) => u.username),
    ).toEqual(["root_admin"]);
    expect((await get("/api/admin/users?suspended=true")).body.usersCount).toBe(0);
    const page = await get("/api/admin/users?limit=1&offset=1");
    expect(page.body.users).toHaveLength(1);
    expect(page.body.users[0].username).toBe("alice_adm");
    expect(page.body.usersCount).toBe(await count(t, "users"));
  });

  test.each(["role=root", "suspended=yes", "limit=0", "offset=-1", `q=${"x".repeat(300)}`])(
    "422 on %s",
    async (q) => {
      expect((await get(`/api/admin/users?${q}`)).status).toBe(422);
    },
  );
});

describe("PATCH /api/admin/users/:username", () => {
  test("changes the role, audits it, and the new role applies on the next request", async () => {
    const res = await patch(bob.username, { role: "viewer" });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: bob.username, role: "viewer", suspended: false });
    const post = await t.request("POST", "/api/articles", {
      token: bob.token,
      body: { article: { title: "x", description: "d", body: "b" } },
    });
    expect(post.status).toBe(403);
    const audit = await row<{ actor_id: number; target_id: string; detail: string }>(
      t,
      "select * from audit_log where action = 'user.role_changed' order by id desc",
    );
    expect(audit).toMatchObject({ actor_id: admin.id, target_id: String(bob.id) });
    expect(JSON.parse(audit!.detail)).toEqual({ from: "editor", to: "viewer" });
    await patch(bob.username, { role: "editor" });
  });

  test("suspending and reinstating are audited; the same value twice changes nothing", async () => {
    expect((await patch(alice.username, { suspended: true })).body.user.suspended).toBe(true);
    const audits = await count(t, "audit_log");
    expect((await patch(alice.username, { suspended: true })).status).toBe(200);
    expect(await count(t, "audit_log")).toBe(audits);
    expect((await patch(alice.username, { suspended: false })).body.user.suspended).toBe(false);
    expect(
      await count(
        t,
        "audit_log where action in ('user.suspended', 'user.unsuspended') and target_id = ?",
        String(alice.id),
      ),
    ).toBe(2);
  });

  test("the last active admin cannot be demoted or suspended (409, unchanged), even by themselves", async () => {
    for (const body of [{ role: "editor" }, { suspended: true }, { role: "viewer", suspended: true }]) {
      const res = await patch(admin.username, body);
      expect(res.status).toBe(409);
      expect(Object.values(res.body.errors)).toEqual([["would leave no active admin"]]);
    }
    expect(await row(t, "select role, suspended from users where id = ?", admin.id)).toEqual({
      role: "admin",
      suspended: 0,
    });
    expect((await get("/api/admin/users")).status).toBe(200);
  });

  test("with a second admin, one may step down", async () => {
    const second = await registerUser(t);
    await patch(second.username, { role: "admin" });
    expect((await patch(second.username, { role: "editor" }, second.token)).status).toBe(200);
    expect((await get("/api/admin/users")).status).toBe(200);
  });

  test("404 for an unknown user; 422 for an empty body or a bad role", async () => {
    expect((await patch("nobody_here", { role: "viewer" })).status).toBe(404);
    expect((await patch(bob.username, {})).status).toBe(422);
    expect((await patch(bob.username, { role: "superuser" })).status).toBe(422);
    expect((await patch(bob.username, { suspended: "yes" })).status).toBe(422);
  });
});

describe("moderation", () => {
  let carol: TestUser;
  let dave: TestUser;
  beforeAll(async () => {
    [carol, dave] = [await registerUser(t), await registerUser(t)];
  });
  test("an admin deletes anyone's article (204), with its comments, audited", async () => {
    const article = await createArticle(t, carol.token);
    await addComment(t, dave.token, article.slug);
    const res = await t.request("DELETE", `/api/admin/articles/${article.slug}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(await count(t, "articles where slug = ?", article.slug)).toBe(0);
    expect(
      await count(t, "comments c where not exists (select 1 from articles a where a.id = c.article_id)"),
    ).toBe(0);
    const audit = await row<{ detail: string; actor_id: number }>(
      t,
      "select * from audit_log where action = 'article.removed' order by id desc",
    );
    expect(audit!.actor_id).toBe(admin.id);
    expect(JSON.parse(audit!.detail)).toEqual({ slug: article.slug, authorId: carol.id });
    expect(
      (await t.request("DELETE", `/api/admin/articles/${article.slug}`, { token: admin.token })).status,
    ).toBe(404);
  });

  test("an admin deletes anyone's comment by id (204), audited; 404 and 422 otherwise", async () => {
    const article = await createArticle(t, carol.token);
    const comment = await addComment(t, dave.token, article.slug);
    expect(
      (await t.request("DELETE", `/api/admin/comments/${comment.id}`, { token: admin.token })).status,
    ).toBe(204);
    expect(await count(t, "comments where id = ?", comment.id)).toBe(0);
    expect(
      await count(t, "audit_log where action = 'comment.removed' and target_id = ?", String(comment.id)),
    ).toBe(1);
    expect(
      (await t.request("DELETE", `/api/admin/comments/${comment.id}`, { token: admin.token })).status,
    ).toBe(404);
    expect((await t.request("DELETE", "/api/admin/comments/abc", { token: admin.token })).status).toBe(422);
  });
});

describe("GET /api/admin/audit", () => {
  test("newest first, with actor usernames and parsed details; logins and failed logins included", async () => {
    await t.request("POST", "/api/users/login", {
      body: { user: { email: bob.email, password: "Guess-Me-42" } },
    });
    const res = await get("/api/admin/audit?limit=5");
    expect(res.status).toBe(200);
    expect(res.body.entries).toHaveLength(5);
    expect(res.body.entries[0]).toMatchObject({
      action: "user.login_failed",
      actor: bob.username,
      targetType: "user",
    });
    expect(res.body.entries[0].detail).toEqual({ reason: "wrong-password" });
    expect(await count(t, "audit_log where detail like '%Guess-Me-42%'")).toBe(0); // attempted passwords are never stored
    expect(res.body.entriesCount).toBe(await count(t, "audit_log"));
    // An unknown email is recorded only as a short hash: it is often a password typed in the wrong box.
    await t.request("POST", "/api/users/login", {
      body: { user: { email: "Hunter2-Secret", password: "x" } },
    });
    const unknown = (await get("/api/admin/audit?limit=1")).body.entries[0];
    expect(unknown.detail).toEqual({
      reason: "unknown-email",
      emailHash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(await count(t, "audit_log where detail like '%Hunter2%'")).toBe(0);
  });

  test("filters by action, actor and time window", async () => {
    const byAction = await get("/api/admin/audit?action=user.role_changed");
    expect(byAction.body.entries.every((e: { action: string }) => e.action === "user.role_changed")).toBe(
      true,
    );
    expect(byAction.body.entriesCount).toBe(await count(t, "audit_log where action = 'user.role_changed'"));
    const byActor = await get(`/api/admin/audit?actor=${admin.username.toUpperCase()}`);
    expect(byActor.body.entriesCount).toBe(await count(t, "audit_log where actor_id = ?", admin.id));
    const future = new Date(t.clock.now() + 60_000).toISOString();
    expect((await get(`/api/admin/audit?since=${future}`)).body.entriesCount).toBe(0);
    expect((await get(`/api/admin/audit?until=${future}`)).body.entriesCount).toBe(
      await count(t, "audit_log"),
    );
    expect((await get("/api/admin/audit?actor=nobody_at_all")).body).toEqual({
      entries: [],
      entriesCount: 0,
    });
  });

  test.each(["action=drop.tables", "since=yesterday", "limit=abc"])("422 on %s", async (q) => {
    expect((await get(`/api/admin/audit?${q}`)).status).toBe(422);
  });
});

describe("OpenAPI", () => {
  test("every admin route is documented under the Admin tag with success and error responses", async () => {
    const spec = (await t.request("GET", "/openapi/json")).body;
    const ops: [string, string][] = [
      ["/api/admin/users", "get"],
      ["/api/admin/users/{username}", "patch"],
      ["/api/admin/articles/{slug}", "delete"],
      ["/api/admin/comments/{id}", "delete"],
      ["/api/admin/audit", "get"],
    ];
    for (const [path, method] of ops) {
      const op = spec.paths[path]?.[method];
      expect({ path, tags: op?.tags }).toEqual({ path, tags: ["Admin"] });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "403"]));
      expect(Object.keys(op.responses).some((c) => c.startsWith("2"))).toBe(true);
    }
    for (const path of ["/api/users/refresh", "/api/users/logout", "/api/users/logout-all"]) {
      expect(spec.paths[path]?.post?.tags).toEqual(["Users"]);
    }
  });
});

/** Feature flags: the admin API, the environment override, registration, comments, and maintenance mode. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { isFlagEnabled, rolloutBucket } from "../../src/modules/flags/service.ts";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  login,
  registerUser,
  type TestApp,
  unique,
} from "../helpers/app.ts";
import { createAdmin } from "../jobs/helpers.ts";

const patch = (t: TestApp, token: string, name: string, body: unknown) =>
  t.request("PATCH", `/api/admin/flags/${name}`, { token, body });

const signUp = (t: TestApp) => {
  const username = unique("flag");
  return t.request("POST", "/api/users", {
    body: { user: { username, email: `${username}@example.com`, password: "correct horse battery" } },
  });
};

describe("admin API", () => {
  test("lists every flag with its default; 401 anonymous, 403 editor", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const res = await t.request("GET", "/api/admin/flags", { token: admin.token });
    expect(res.status).toBe(200);
    const summary = res.body.flags.map((f: { name: string; enabled: boolean; source: string }) => [
      f.name,
      f.enabled,
      f.source,
    ]);
    expect(summary).toEqual([
      ["registration", true, "default"],
      ["comments", true, "default"],
      ["realtime", true, "default"],
      ["maintenance", false, "default"],
    ]);
    expect((await t.request("GET", "/api/admin/flags")).status).toBe(401);
    const editor = await registerUser(t);
    expect((await t.request("GET", "/api/admin/flags", { token: editor.token })).status).toBe(403);
    const denied = await patch(t, editor.token, "maintenance", { enabled: true });
    expect(denied.status).toBe(403);
    expect(await count(t, "flags")).toBe(0);
  });

  test("PATCH stores the flag and answers with it; bad input is 422 and changes nothing", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const res = await patch(t, admin.token, "comments", { enabled: true, percentage: 25 });
    expect(res.status).toBe(200);
    expect(res.body.flag).toMatchObject({
      name: "comments",
      enabled: true,
      percentage: 25,
      source: "database",
    });
    expect(await t.db.all("SELECT name, enabled, percentage FROM flags")).toEqual([
      { name: "comments", enabled: 1, percentage: 25 },
    ]);
    expect(
      await t.db.all(
        "SELECT action, actor_id, target_type, target_id, detail FROM audit_log WHERE action = 'flag.changed'",
      ),
    ).toEqual([
      {
        action: "flag.changed",
        actor_id: admin.id,
        target_type: "flag",
        target_id: "comments",
        detail: '{"enabled":true,"percentage":25}',
      },
    ]);

    const bad: [string, unknown, string][] = [
      ["comments", { enabled: true, percentage: 101 }, "percentage"],
      ["comments", { enabled: true, percentage: -1 }, "percentage"],
      ["comments", { enabled: true, percentage: 50.5 }, "percentage"],
      ["comments", { enabled: "yes" }, "enabled"],
      ["comments", { percentage: 10 }, "enabled"],
      ["maintenance", { enabled: true, percentage: 50 }, "percentage"],
    ];
    for (const [name, body, field] of bad) {
      const r = await patch(t, admin.token, name, body);
      expect(r.status).toBe(422);
      expect(Object.keys(r.body.errors)).toEqual([field]);
    }
    const unknown = await patch(t, admin.token, "teleport", { enabled: true });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(envelope("flag", "not found"));
    expect(await t.db.all("SELECT name, enabled, percentage FROM flags")).toEqual([
      { name: "comments", enabled: 1, percentage: 25 },
    ]);
  });
});

describe("registration", () => {
  test("off → 403 on sign-up, nothing created; on again → 201", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    expect((await patch(t, admin.token, "registration", { enabled: false })).status).toBe(200);
    const users = await count(t, "users");
    const closed = await signUp(t);
    expect(closed.status).toBe(403);
    expect(closed.body).toEqual(envelope("registration", "is closed"));
    expect(await count(t, "users")).toBe(users);
    expect(await count(t, "jobs where type = 'mail.welcome'")).toBe(1); // the admin's own

    // Signing in still works.
    expect(await login(t, admin.email, admin.password)).toBeString();
    expect((await patch(t, admin.token, "registration", { enabled: true })).status).toBe(200);
    expect((await signUp(t)).status).toBe(201);
  });

  test("the environment override wins over the database", async () => {
    const t = await createTestApp({ QUIRE_FLAG_REGISTRATION: "off" });
    await t.db.run("INSERT INTO flags (name, enabled, percentage) VALUES ('registration', true, 100)");
    const res = await signUp(t);
    expect(res.status).toBe(403);
    expect(await count(t, "users")).toBe(0);

    const on = await createTestApp({ QUIRE_FLAG_REGISTRATION: "on" });
    const admin = await createAdmin(on);
    const patched = await patch(on, admin.token, "registration", { enabled: false });
    expect(patched.body.flag).toMatchObject({ enabled: true, source: "env", override: "on" });
    expect((await signUp(on)).status).toBe(201);
  });

  test("an invalid override stops the start with a message naming the variable", async () => {
    expect(() => loadConfig({ NODE_ENV: "test", QUIRE_FLAG_MAINTENANCE: "maybe" })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: "test", QUIRE_FLAG_MAINTENANCE: "maybe" });
    } catch (err) {
      expect((err as ConfigError).problems.join("\n")).toContain("QUIRE_FLAG_MAINTENANCE");
    }
  });
});

describe("comments", () => {
  test("off → 403 on writing and deleting comments; reading still works", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const article = await createArticle(t, admin.token);
    const comment = await addComment(t, admin.token, article.slug);
    await patch(t, admin.token, "comments", { enabled: false });

    const post = await t.request("POST", `/api/articles/${article.slug}/comments`, {
      token: admin.token,
      body: { comment: { body: "blocked" } },
    });
    expect(post.status).toBe(403);
    expect(post.body).toEqual(envelope("comments", "are disabled"));
    const del = await t.request("DELETE", `/api/articles/${article.slug}/comments/${comment.id}`, {
      token: admin.token,
    });
    expect(del.status).toBe(403);
    expect(await count(t, "comments")).toBe(1);
    const list = await t.request("GET", `/api/articles/${article.slug}/comments`);
    expect(list.status).toBe(200);
    expect(list.body.comments).toHaveLength(1);
  });

  test("a percentage rollout admits exactly the users whose bucket is below it", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const article = await createArticle(t, admin.token);
    await patch(t, admin.token, "comments", { enabled: true, percentage: 50 });
    const users = await Promise.all(Array.from({ length: 8 }, () => registerUser(t)));
    for (const user of users) {
      const res = await t.request("POST", `/api/articles/${article.slug}/comments`, {
        token: user.token,
        body: { comment: { body: "hi" } },
      });
      expect(res.status).toBe(rolloutBucket("comments", user.id) < 50 ? 201 : 403);
    }
  });
});

describe("rollout", () => {
  test("buckets are stable, independent per flag, and roughly uniform", async () => {
    expect(rolloutBucket("realtime", 42)).toBe(rolloutBucket("realtime", 42));
    const tally = Array(10).fill(0);
    let differ = 0;
    for (let id = 1; id <= 10_000; id++) {
      const b = rolloutBucket("realtime", id);
      tally[Math.floor(b / 10)] += 1;
      if (b !== rolloutBucket("comments", id)) differ += 1;
    }
    for (const n of tally) expect(n).toBeWithin(800, 1_200);
    expect(differ).toBeGreaterThan(9_000);
  });

  test("isFlagEnabled: off, 0 %, 100 %, anonymous callers", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    expect(isFlagEnabled(t.ctx, "realtime", 1)).toBe(true);
    await patch(t, admin.token, "realtime", { enabled: true, percentage: 0 });
    expect(isFlagEnabled(t.ctx, "realtime", 1)).toBe(false);
    await patch(t, admin.token, "realtime", { enabled: true, percentage: 30 });
    const inside = Array.from({ length: 200 }, (_, i) => i + 1).find(
      (id) => rolloutBucket("realtime", id) < 30,
    )!;
    expect(isFlagEnabled(t.ctx, "realtime", inside)).toBe(true);
    expect(isFlagEnabled(t.ctx, "realtime")).toBe(false); // anonymous: only at 100 %
    await patch(t, admin.token, "realtime", { enabled: false, percentage: 100 });
    expect(isFlagEnabled(t.ctx, "realtime", inside)).toBe(false);
  });
});

describe("maintenance", () => {
  test("blocks writes with 503 and Retry-After, lets reads through, and an admin can switch it off", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const author = await registerUser(t);
    const article = await createArticle(t, author.token, { title: "Before maintenance" });
    const on = await patch(t, admin.token, "maintenance", { enabled: true });
    expect(on.body.flag).toMatchObject({ name: "maintenance", enabled: true });

    const snapshot = async () => [
      await count(t, "articles"),
      await count(t, "comments"),
      await count(t, "users"),
      await count(t, "favorites"),
    ];
    const before = await snapshot();
    const writes: [string, string, unknown?][] = [
      ["POST", "/api/articles", { article: { title: "During", description: "d", body: "b" } }],
      ["PUT", `/api/articles/${article.slug}`, { article: { title: "Changed" } }],
      ["DELETE", `/api/articles/${article.slug}`],
      ["POST", `/api/articles/${article.slug}/favorite`],
      ["POST", `/api/articles/${article.slug}/comments`, { comment: { body: "c" } }],
      ["PUT", "/api/user", { user: { bio: "new" } }],
    ];
    for (const [method, path, body] of writes) {
      const res = await t.request(method, path, { token: author.token, body });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("120");
      expect(res.body).toEqual(
        envelope("maintenance", "the service is read-only for maintenance; try again later"),
      );
    }
    expect((await signUp(t)).status).toBe(503);
    expect(await snapshot()).toEqual(before);
    expect((await t.request("GET", `/api/articles/${article.slug}`)).body.article.title).toBe(
      "Before maintenance",
    );

    // Reads work, and so does signing in (the admin needs a token to end maintenance).
    expect((await t.request("GET", "/api/articles")).status).toBe(200);
    expect((await t.request("GET", "/api/user", { token: author.token })).status).toBe(200);
    const adminToken = await login(t, admin.email, admin.password);
    const spare = await login(t, author.email, author.password);
    const logout = await t.request("POST", "/api/users/logout", { token: spare });
    expect(logout.status).toBeLessThan(300);

    const off = await patch(t, adminToken, "maintenance", { enabled: false });
    expect(off.status).toBe(200);
    const after = await t.request("PUT", `/api/articles/${article.slug}`, {
      token: author.token,
      body: { article: { title: "After maintenance" } },
    });
    expect(after.status).toBe(200);
    expect(after.body.article.title).toBe("After maintenance");
  });

  test("QUIRE_FLAG_MAINTENANCE=on holds even if the database says off", async () => {
    const t = await createTestApp({ QUIRE_FLAG_MAINTENANCE: "on" });
    expect((await signUp(t)).status).toBe(503);
    expect((await t.request("GET", "/api/tags")).status).toBe(200);
  });
});

/**
 * Deleting an account (DELETE /api/user, DELETE /api/admin/users/:username): all or nothing, no orphan rows
 * in any table, nothing personal left behind, counts and caches corrected, the name and address free again.
 */
import { describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  envelope,
  favorite,
  follow,
  login,
  registerUser,
  row,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";
import { createAdmin, jobsOfType } from "../jobs/helpers.ts";
import { createPeerTestApp } from "../security/helpers.ts";
import { jobsNaming, mailApp, orphans, resetToken, tableNames } from "./helpers.ts";

const remove = (t: TestApp, user: TestUser, password: string | undefined = user.password) =>
  t.request("DELETE", "/api/user", {
    token: user.token,
    body: password === undefined ? {} : { user: { password } },
  });

/** Every table's rows (SQLite's FTS index by rowid), for before/after comparisons and scans. */
async function snapshot(t: TestApp): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const name of await tableNames(t)) out[name] = await t.db.all(`select * from "${name}"`);
  if (t.engine === "sqlite")
    out.articles_fts = await t.db.all("select rowid from articles_fts order by rowid");
  return out;
}

/** A user with something of everything: articles (tagged, renamed, favourited and commented by others), a
 * comment and a favourite on someone else's article, follows both ways, two sessions, a reset link. */
async function populated(t: TestApp & { smtp?: unknown }) {
  const other = await registerUser(t);
  const user = await registerUser(t);
  const mine = await createArticle(t, user.token, { title: "Quokka husbandry", tagList: ["quokkas"] });
  const renamed = await t.request("PUT", `/api/articles/${mine.slug}`, {
    token: user.token,
    body: { article: { title: "Quokka husbandry, revised" } },
  });
  expect(renamed.status).toBe(200);
  const slug = renamed.body.article.slug as string;
  await createArticle(t, user.token, { title: "Second thoughts" });
  const theirs = await createArticle(t, other.token, { title: "Their piece" });
  await favorite(t, other.token, slug);
  await favorite(t, user.token, theirs.slug);
  await favorite(t, user.token, slug); // their own: goes with the article
  await addComment(t, other.token, slug, "A reply on theirs");
  await addComment(t, user.token, theirs.slug, "A comment elsewhere");
  await addComment(t, user.token, slug, "A comment on their own");
  await follow(t, user.token, other.username);
  await follow(t, other.token, user.username);
  const second = await login(t, user.email, user.password);
  return { user, other, slug, formerSlug: mine.slug, theirs, second };
}

describe("DELETE /api/user refused", () => {
  test("a wrong password is 403 and nothing at all changes", async () => {
    const t = await createTestApp();
    const { user } = await populated(t);
    const before = await snapshot(t);
    const res = await remove(t, user, "not the password");
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("password", "is wrong"));
    expect(await snapshot(t)).toEqual(before);
    expect((await t.request("GET", "/api/user", { token: user.token })).status).toBe(200);
  });

  test("a missing password is 422 and nothing changes", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const before = await snapshot(t);
    const missing = await t.request("DELETE", "/api/user", { token: user.token, body: { user: {} } });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual(envelope("password", "can't be blank"));
    const none = await t.request("DELETE", "/api/user", { token: user.token });
    expect(none.status).toBe(422);
    expect(await snapshot(t)).toEqual(before);
  });

  test("the last active admin cannot delete themselves (409), nothing changes", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    await createArticle(t, admin.token);
    const before = await snapshot(t);
    const res = await remove(t, admin);
    expect(res.status).toBe(409);
    expect(res.body).toEqual(envelope("user", "is the last active admin"));
    expect(await snapshot(t)).toEqual(before);
  });
});

describe("DELETE /api/user", () => {
  test("ends every session, frees name and address, leaves no orphan and nothing personal", async () => {
    const t = await mailApp();
    const { user, other, slug, formerSlug, theirs, second } = await populated(t);
    await resetToken(t, user.email); // an account token, and mail jobs holding the account's id
    // Warm the caches with what is about to go.
    expect((await t.request("GET", `/api/profiles/${user.username}`)).status).toBe(200);
    expect((await t.request("GET", `/api/articles/${slug}`)).status).toBe(200);
    expect((await t.request("GET", `/api/articles/${theirs.slug}`)).body.article.favoritesCount).toBe(1);
    expect((await t.request("GET", `/api/articles?author=${user.username}`)).body.articlesCount).toBe(2);
    expect((await t.request("GET", "/api/articles?q=quokka")).body.articlesCount).toBe(1);
    const others = {
      users: (await count(t, "users")) - 1,
      articles: await count(t, "articles where author_id <> ?", user.id),
    };

    const res = await remove(t, user);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");

    // Signed out everywhere, and cannot sign in.
    for (const token of [user.token, second]) {
      const me = await t.request("GET", "/api/user", { token });
      expect(me.status).toBe(401);
      expect(me.body).toEqual(envelope("token", "is invalid"));
    }
    const signIn = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
    });
    expect(signIn.status).toBe(401);

    // Gone from every read (the cached copies included).
    expect((await t.request("GET", `/api/profiles/${user.username}`)).status).toBe(404);
    expect((await t.request("GET", `/api/articles/${slug}`)).status).toBe(404);
    expect((await t.request("GET", `/api/articles/${formerSlug}`)).status).toBe(404);
    expect((await t.request("GET", `/api/articles?author=${user.username}`)).body.articlesCount).toBe(0);
    expect((await t.request("GET", "/api/articles?q=quokka")).body.articlesCount).toBe(0);
    const theirsNow = await t.request("GET", `/api/articles/${theirs.slug}`);
    expect(theirsNow.body.article.favoritesCount).toBe(0);
    expect(await row(t, "select favorites_count from articles where slug = ?", theirs.slug)).toEqual({
      favorites_count: 0,
    });
    const comments = await t.request("GET", `/api/articles/${theirs.slug}/comments`);
    expect(comments.body.comments).toEqual([]);
    expect((await t.request("GET", "/api/articles/feed", { token: other.token })).body.articlesCount).toBe(0);
    expect((await t.request("GET", "/api/tags")).body.tags).not.toContain("quokkas");

    // No orphan: every foreign key holds, the search index has no entry without its article.
    expect(await orphans(t)).toEqual([]);
    // And by name, on either engine: nothing of theirs is left in a child table.
    for (const where of [
      "comments where author_id = ?",
      "favorites where user_id = ?",
      "follows where follower_id = ?",
      "follows where followee_id = ?",
      "sessions where user_id = ?",
      "articles where author_id = ?",
    ])
      expect([where, await count(t, where, user.id)]).toEqual([where, 0]);
    // Everyone else's rows are still there.
    expect(await count(t, "users")).toBe(others.users);
    expect(await count(t, "articles")).toBe(others.articles);
    // Nothing personal anywhere: not the name, the address, or an address of a request.
    const all = JSON.stringify(await snapshot(t));
    for (const personal of [user.username, user.email, user.email.split("@")[0]!])
      expect(all).not.toContain(personal);
    expect(await jobsNaming(t, user.id)).toEqual([]);
    expect(await count(t, "account_tokens where user_id = ?", user.id)).toBe(0);
    expect(await count(t, "deleted_users where id = ?", user.id)).toBe(1);

    // An entry remains: what happened, with counts, no actor and no address.
    const entry = (await row<{
      actor_id: number | null;
      target_id: string;
      ip: string | null;
      detail: string;
    }>(t, "select actor_id, target_id, ip, detail from audit_log where action = 'user.deleted'"))!;
    expect(entry).toMatchObject({ actor_id: null, target_id: String(user.id), ip: null });
    expect(JSON.parse(entry.detail)).toEqual({
      via: "self",
      articles: 2,
      comments: 1,
      favorites: 1,
      sessions: 2,
    });

    // The name and the address can be registered again, by a new account with a new id.
    const again = await registerUser(t, { username: user.username, email: user.email });
    expect(again.id).toBeGreaterThan(user.id);
    expect((await t.request("GET", `/api/profiles/${user.username}`)).body.profile).toMatchObject({
      username: user.username,
      bio: null,
    });
    expect((await t.request("GET", `/api/articles?author=${user.username}`)).body.articlesCount).toBe(0);
  });

  test("the newest account's id is not given out again", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    expect((await remove(t, user)).status).toBe(204);
    const next = await registerUser(t);
    expect(next.id).toBe(user.id + 1);
  });

  test("client addresses in the account's audit entries are forgotten; the entries (and admins') stay", async () => {
    const t = await createPeerTestApp();
    const admin = await createAdmin(t);
    const user = await registerUser(t);
    const signIn = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
      peer: "203.0.113.99",
    });
    expect(signIn.status).toBe(200);
    const failed = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: "wrong guess" } },
      peer: "203.0.113.99",
    });
    expect(failed.status).toBe(401);
    const reset = await t.request("POST", "/api/users/password-reset", {
      body: { user: { email: user.email } },
      peer: "203.0.113.99",
    });
    expect(reset.status).toBe(202);
    const demoted = await t.request("PATCH", `/api/admin/users/${user.username}`, {
      token: admin.token,
      body: { role: "viewer" },
      peer: "192.0.2.1",
    });
    expect(demoted.status).toBe(200);
    expect(await count(t, "audit_log where ip = '203.0.113.99'")).toBe(3);
    const res = await t.request("DELETE", "/api/user", {
      token: user.token,
      body: { user: { password: user.password } },
      peer: "203.0.113.99",
    });
    expect(res.status).toBe(204);
    expect(await count(t, "audit_log where ip = '203.0.113.99'")).toBe(0);
    expect(await count(t, "audit_log where target_id = ?", String(user.id))).toBe(5); // + user.deleted
    // What an admin did to the account keeps the admin's address.
    expect(await row(t, "select ip from audit_log where action = 'user.role_changed'")).toEqual({
      ip: "192.0.2.1",
    });
  });

  test("pending emails to the account are dropped with it", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: "moved@example.com" } },
    });
    expect(await jobsOfType(t, "mail.email-changed")).toHaveLength(1);
    expect((await remove(t, user)).status).toBe(204);
    expect(await count(t, "jobs where type like 'mail.%'")).toBe(0);
  });
});

describe("DELETE /api/admin/users/:username", () => {
  test("an admin deletes an account: the same effects, audited with the admin", async () => {
    const t = await createPeerTestApp();
    const admin = await createAdmin(t);
    const { user, theirs } = await populated(t);
    const res = await t.request("DELETE", `/api/admin/users/${user.username.toUpperCase()}`, {
      token: admin.token,
      peer: "198.51.100.1",
    });
    expect(res.status).toBe(204);
    expect((await t.request("GET", "/api/user", { token: user.token })).status).toBe(401);
    expect(await row(t, "select favorites_count from articles where slug = ?", theirs.slug)).toEqual({
      favorites_count: 0,
    });
    expect(await orphans(t)).toEqual([]);
    expect(await row(t, "select actor_id, ip, detail from audit_log where action = 'user.deleted'")).toEqual({
      actor_id: admin.id,
      ip: "198.51.100.1",
      detail: JSON.stringify({ via: "admin", articles: 2, comments: 1, favorites: 1, sessions: 2 }),
    });
    const listed = await t.request("GET", "/api/admin/audit?action=user.deleted", { token: admin.token });
    expect(listed.body.entries[0]).toMatchObject({ actor: admin.username, targetId: String(user.id) });
  });

  test("404 for an unknown username; 409 for the last active admin; nothing changes", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const before = await snapshot(t);
    const unknown = await t.request("DELETE", "/api/admin/users/nobody", { token: admin.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(envelope("user", "not found"));
    const self = await t.request("DELETE", `/api/admin/users/${admin.username}`, { token: admin.token });
    expect(self.status).toBe(409);
    expect(self.body).toEqual(envelope("user", "is the last active admin"));
    expect(await snapshot(t)).toEqual(before);
  });

  test("another admin can be deleted while one remains", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const second = await createAdmin(t);
    const res = await t.request("DELETE", `/api/admin/users/${second.username}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(await count(t, "users where role = 'admin'")).toBe(1);
  });
});

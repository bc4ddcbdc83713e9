/**
 * GET /api/user/export: everything the account owns or did, as a download, never a secret, streamed in
 * pages (compressed as it goes when asked).
 */
import { describe, expect, test } from "bun:test";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  favorite,
  follow,
  login,
  registerUser,
  type TestApp,
} from "../helpers/app.ts";
import { createPeerTestApp } from "../security/helpers.ts";

const exportOf = (t: TestApp, token: string) => t.request("GET", "/api/user/export", { token });

describe("the export", () => {
  test("holds the account, its content and activity, as an attachment that is never cached", async () => {
    const t = await createPeerTestApp();
    const other = await registerUser(t);
    const user = await registerUser(t);
    const theirs = await createArticle(t, other.token, { title: "Their article" });
    const mine = await createArticle(t, user.token, {
      title: "My article",
      body: "A long body\nwith lines",
      tagList: ["zebra", "apple"],
    });
    await favorite(t, other.token, mine.slug);
    await favorite(t, user.token, theirs.slug);
    const comment = await addComment(t, user.token, theirs.slug, "Nice one");
    await follow(t, user.token, other.username);
    await follow(t, other.token, user.username); // theirs, not the user's: not in the export
    const login1 = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
      peer: "203.0.113.7",
    });
    expect(login1.status).toBe(200);

    const res = await t.request("GET", "/api/user/export", { token: user.token, peer: "198.51.100.9" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const day = new Date(t.clock.now()).toISOString().slice(0, 10);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="quire-export-${user.username}-${day}.json"`,
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("etag")).toBeNull();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");

    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    expect(res.body).toEqual({
      exportedAt: iso,
      user: {
        username: user.username,
        email: user.email,
        emailVerified: false,
        emailVerifiedAt: null,
        bio: null,
        image: null,
        role: "editor",
        suspended: false,
        createdAt: iso,
        updatedAt: iso,
      },
      articles: [
        {
          slug: mine.slug,
          title: "My article",
          description: "A description",
          body: "A long body\nwith lines",
          tagList: ["apple", "zebra"],
          favoritesCount: 1,
          createdAt: iso,
          updatedAt: iso,
        },
      ],
      comments: [
        { id: comment.id, article: { slug: theirs.slug }, body: "Nice one", createdAt: iso, updatedAt: iso },
      ],
      favorites: [{ article: { slug: theirs.slug }, createdAt: iso }],
      following: [{ username: other.username, since: iso }],
      sessions: expect.any(Array),
      auditLog: [
        { at: iso, action: "user.login", byYou: true, ip: "203.0.113.7" },
        { at: iso, action: "user.exported", byYou: true, ip: "198.51.100.9" },
      ],
    });
    // Registration's session (the one asking) and the login's; in id order, which is random.
    const sessions = [...res.body.sessions].sort((a, b) => Number(b.current) - Number(a.current));
    expect(sessions).toEqual([
      { createdAt: iso, expiresAt: iso, endedAt: null, current: true },
      { createdAt: iso, expiresAt: iso, endedAt: null, current: false },
    ]);
  });

  test("never a secret: no password hash, no token or its hash, no session id, no other account's address", async () => {
    const t = await createTestApp();
    const other = await registerUser(t);
    const user = await registerUser(t);
    await follow(t, user.token, other.username);
    const second = await login(t, user.email, user.password);
    // An admin acts on the account: the entry is theirs to see, the admin's address is not.
    await t.db.run(
      "insert into audit_log (at, action, actor_id, target_type, target_id, ip) values (?, 'user.role_changed', ?, 'user', ?, '192.0.2.50')",
      t.clock.now(),
      other.id,
      String(user.id),
    );
    const res = await exportOf(t, user.token);
    expect(res.status).toBe(200);
    const secrets = [
      ...(await t.db.all<{ v: string }>("select password_hash as v from users where id = ?", user.id)),
      ...(await t.db.all<{ v: string }>("select id as v from sessions where user_id = ?", user.id)),
      ...(await t.db.all<{ v: string }>(
        "select token_hash as v from refresh_tokens where session_id in (select id from sessions where user_id = ?)",
        user.id,
      )),
    ].map((r) => r.v);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const secret of [...secrets, user.token, second, user.password, other.email, "192.0.2.50"])
      expect(res.text).not.toContain(secret);
    expect(res.body.auditLog).toContainEqual({
      at: expect.any(String),
      action: "user.role_changed",
      byYou: false,
      ip: null,
    });
    expect(res.text).not.toMatch(/password|hash|refreshToken/i);
  });

  test("pages through large accounts: every article, in order, and the same document compressed", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const slugs: string[] = [];
    for (let i = 0; i < 120; i++)
      slugs.push((await createArticle(t, user.token, { title: `Post ${i}` })).slug);
    const plain = await exportOf(t, user.token);
    expect(plain.body.articles.map((a: { slug: string }) => a.slug)).toEqual(slugs);

    const zipped = await t.app.handle(
      t.buildRequest("GET", "/api/user/export", {
        token: user.token,
        headers: { "accept-encoding": "gzip" },
      }),
    );
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toContain("Accept-Encoding");
    const text = new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer())));
    const doc = JSON.parse(text);
    expect({ ...doc, exportedAt: null, auditLog: null }).toEqual({
      ...plain.body,
      exportedAt: null,
      auditLog: null,
    });
  });

  test("is audited, and needs a token", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    expect((await exportOf(t, user.token)).status).toBe(200);
    const audited = await t.db.all<{ actor_id: number }>(
      "select actor_id from audit_log where action = 'user.exported'",
    );
    expect(audited).toEqual([{ actor_id: user.id }]);
    const anonymous = await t.request("GET", "/api/user/export");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ errors: { token: ["is missing"] } });
  });

  test("has a bucket of its own per account: past it, 429 with Retry-After, and nothing read or audited", async () => {
    const t = await createTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_EXPORTS_PER_HOUR: "2" });
    const user = await registerUser(t);
    const other = await registerUser(t);
    for (let i = 0; i < 2; i++) expect((await exportOf(t, user.token)).status).toBe(200);
    const refused = await exportOf(t, user.token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await count(t, "audit_log where action = 'user.exported' and actor_id = ?", user.id)).toBe(2);
    // Another account's bucket is untouched.
    expect((await exportOf(t, other.token)).status).toBe(200);
  });
});

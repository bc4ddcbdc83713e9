/**
 * Email verification over real SMTP: registration sends the link, it works once and expires, a new address is
 * unverified until its own link is followed, and REQUIRE_VERIFIED_EMAIL_TO_WRITE makes unverified accounts
 * read-only (with a message saying why) without locking them out of fixing their address.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { openPool } from "../../src/infra/postgres/client.ts";
import { applyMigrations, migrationsFolder as pgMigrations } from "../../src/infra/postgres/migrate.ts";
import { migrationsFolder } from "../../src/infra/sqlite/migrate.ts";
import { UNVERIFIED_MESSAGE } from "../../src/policy.ts";
import {
  count,
  createArticle,
  createTestApp,
  envelope,
  registerUser,
  row,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";
import { testDatabaseUrl, testEngine } from "../helpers/engine.ts";
import { jobsOfType } from "../jobs/helpers.ts";
import {
  badToken,
  deliver,
  lastToken,
  mailApp,
  mailsTo,
  VERIFY_SUBJECT,
  verify,
  WELCOME_SUBJECT,
  welcomeToken,
} from "./helpers.ts";

const me = async (t: TestApp, user: TestUser) =>
  (await t.request("GET", "/api/user", { token: user.token })).body.user;

describe("verifying the address", () => {
  test("registration's welcome email carries the link; following it verifies the address once", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    expect((await me(t, user)).emailVerified).toBe(false);
    const token = await welcomeToken(t, user.email);
    expect(token).toMatch(/^ev_[A-Za-z0-9_-]{43}$/);
    expect(mailsTo(t, user.email, WELCOME_SUBJECT)[0]!.text).toContain(`token=${token}`);

    const res = await verify(t, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { username: user.username, email: user.email, emailVerified: true } });
    expect((await me(t, user)).emailVerified).toBe(true);
    expect(await row(t, "select email_verified_at from users where id = ?", user.id)).toEqual({
      email_verified_at: t.clock.now(),
    });

    const again = await verify(t, token);
    expect(again.status).toBe(400);
    expect(again.body).toEqual(badToken);
    expect(await count(t, "audit_log where action = 'user.email_verified'")).toBe(1);
  });

  test("the token expires after EMAIL_VERIFICATION_TTL_SECONDS (fake clock)", async () => {
    const t = await mailApp({ EMAIL_VERIFICATION_TTL_SECONDS: "3600" });
    const user = await registerUser(t);
    const token = await welcomeToken(t, user.email);
    expect(mailsTo(t, user.email, WELCOME_SUBJECT)[0]!.text).toContain("for 1 hour");
    t.clock.advance(3_600_000);
    expect((await verify(t, token)).status).toBe(400);
    expect((await me(t, user)).emailVerified).toBe(false);
  });

  test("forged, altered and wrong-purpose tokens all get the one answer", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await welcomeToken(t, user.email);
    const flipped = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const bad of [
      `ev_${"A".repeat(43)}`,
      flipped,
      `pr_${token.slice(3)}`, // the same secret under the other purpose's prefix
      token.slice(0, -1),
      `${token} `,
      "ev_",
      "x".repeat(256),
    ]) {
      const res = await verify(t, bad);
      expect({ bad, status: res.status, body: res.body }).toEqual({ bad, status: 400, body: badToken });
    }
    expect((await me(t, user)).emailVerified).toBe(false);
    // The real one was not spent by any of that.
    expect((await verify(t, token)).status).toBe(200);
  });

  test("purpose binding in the store: a verification token's hash is no reset token, and the reverse", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await welcomeToken(t, user.email);
    const hash = new Bun.CryptoHasher("sha256").update(token).digest("base64url");
    const now = t.clock.now();
    expect(
      await t.ctx.store.write((tx) => tx.accountTokens.consume("password-reset", hash, now)),
    ).toBeUndefined();
    expect(
      await t.ctx.store.write((tx) => tx.accountTokens.consume("email-verification", hash, now)),
    ).toEqual({
      userId: user.id,
      email: user.email,
    });
  });

  test("a missing token is 422", async () => {
    const t = await createTestApp();
    const res = await t.request("POST", "/api/users/verify-email", { body: {} });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("token", "can't be blank"));
  });
});

describe("changing the address", () => {
  test("unverifies it, sends a link to the new address and a notice to the old one", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    expect((await verify(t, await welcomeToken(t, user.email))).status).toBe(200);

    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: "fresh@example.com" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: "fresh@example.com", emailVerified: false });
    await deliver(t);
    expect(mailsTo(t, user.email, "Your Quire email address was changed")).toHaveLength(1);
    const token = lastToken(t, "fresh@example.com", VERIFY_SUBJECT);
    expect(mailsTo(t, user.email, VERIFY_SUBJECT)).toHaveLength(0);

    expect((await verify(t, token)).body).toEqual({
      user: { username: user.username, email: "fresh@example.com", emailVerified: true },
    });
    expect((await me(t, user)).emailVerified).toBe(true);
  });

  test("a change of case only keeps the address verified and sends nothing", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    expect((await verify(t, await welcomeToken(t, user.email))).status).toBe(200);
    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: user.email.toUpperCase() } },
    });
    expect(res.body.user.emailVerified).toBe(true);
    expect(await jobsOfType(t, "mail.verify-email")).toHaveLength(0);
  });

  test("a link sent to the old address cannot verify the new one", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const oldLink = await welcomeToken(t, user.email);
    await t.request("PUT", "/api/user", { token: user.token, body: { user: { email: "new@example.com" } } });
    expect((await verify(t, oldLink)).status).toBe(400);
    expect((await me(t, user)).emailVerified).toBe(false);
    // …nor the old one, should the account move back before it expires? It can: it is that address again.
    await t.request("PUT", "/api/user", { token: user.token, body: { user: { email: user.email } } });
    expect((await verify(t, oldLink)).status).toBe(200);
  });
});

describe("asking for a new link", () => {
  test("202 and a fresh link to the current address; 409 once verified", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    await deliver(t);
    const res = await t.request("POST", "/api/user/verification-email", { token: user.token });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ message: "A link to verify your address is on its way." });
    await deliver(t);
    const token = lastToken(t, user.email, VERIFY_SUBJECT);
    expect((await verify(t, token)).status).toBe(200);
    const done = await t.request("POST", "/api/user/verification-email", { token: user.token });
    expect(done.status).toBe(409);
    expect(done.body).toEqual(envelope("email", "is already verified"));
  });

  test("limited per account: the 6th within the hour is 429", async () => {
    const t = await mailApp({ RATE_LIMIT_ENABLED: "true" });
    const user = await registerUser(t);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await t.request("POST", "/api/user/verification-email", { token: user.token })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    expect(await jobsOfType(t, "mail.verify-email")).toHaveLength(5);
  });
});

describe("REQUIRE_VERIFIED_EMAIL_TO_WRITE", () => {
  const refused = { errors: { email: [UNVERIFIED_MESSAGE] } };

  test("off by default: an unverified account writes as before", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    await createArticle(t, user.token);
  });

  test("on: every content write is 403 with the reason and changes nothing; reads work", async () => {
    const t = await mailApp({ REQUIRE_VERIFIED_EMAIL_TO_WRITE: "true" });
    const author = await registerUser(t);
    expect((await verify(t, await welcomeToken(t, author.email))).status).toBe(200);
    const article = await createArticle(t, author.token);
    const comment = await t.request("POST", `/api/articles/${article.slug}/comments`, {
      token: author.token,
      body: { comment: { body: "first" } },
    });
    expect(comment.status).toBe(201);

    const user = await registerUser(t);
    const slug = article.slug;
    const writes: [string, string, unknown?][] = [
      ["POST", "/api/articles", { article: { title: "Nope", description: "d", body: "b" } }],
      ["PUT", `/api/articles/${slug}`, { article: { body: "changed" } }],
      ["DELETE", `/api/articles/${slug}`],
      ["POST", `/api/articles/${slug}/favorite`],
      ["DELETE", `/api/articles/${slug}/favorite`],
      ["POST", `/api/articles/${slug}/comments`, { comment: { body: "hi" } }],
      ["DELETE", `/api/articles/${slug}/comments/${comment.body.comment.id}`],
      ["POST", `/api/profiles/${author.username}/follow`],
      ["DELETE", `/api/profiles/${author.username}/follow`],
      ["PUT", "/api/user", { user: { bio: "spam" } }],
      ["PUT", "/api/user", { user: { username: "renamed" } }],
      ["PUT", "/api/user", { user: { image: "https://example.com/x.png", email: "x@example.com" } }],
    ];
    for (const [method, path, body] of writes) {
      const res = await t.request(method, path, { token: user.token, body });
      expect({ method, path, status: res.status, body: res.body }).toEqual({
        method,
        path,
        status: 403,
        body: refused,
      });
    }
    expect(await count(t, "articles")).toBe(1);
    expect(await count(t, "comments")).toBe(1);
    expect(await count(t, "favorites")).toBe(0);
    expect(await count(t, "follows")).toBe(0);
    expect(await row(t, "select username, email, bio from users where id = ?", user.id)).toEqual({
      username: user.username,
      email: user.email,
      bio: null,
    });
    expect((await t.request("GET", `/api/articles/${slug}`, { token: user.token })).status).toBe(200);
    expect((await t.request("GET", "/api/articles/feed", { token: user.token })).status).toBe(200);
  });

  test("on: the address, the password, verification, logout, export and deletion stay open", async () => {
    const t = await mailApp({ REQUIRE_VERIFIED_EMAIL_TO_WRITE: "true" });
    const user = await registerUser(t);
    const fix = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: "typo-fixed@example.com", password: "another passphrase" } },
    });
    expect(fix.status).toBe(200);
    expect((await t.request("POST", "/api/user/verification-email", { token: user.token })).status).toBe(202);
    expect((await t.request("GET", "/api/user/export", { token: user.token })).status).toBe(200);
    await deliver(t);
    const token = lastToken(t, "typo-fixed@example.com", VERIFY_SUBJECT);
    expect((await verify(t, token)).status).toBe(200);
    // Verified: the very next request may write (the cached session check was dropped).
    await createArticle(t, user.token);
    expect((await t.request("POST", "/api/users/logout", { token: user.token })).status).toBe(204);
  });

  test("on, and the address changes: writes stop at once until the new one is verified", async () => {
    const t = await mailApp({ REQUIRE_VERIFIED_EMAIL_TO_WRITE: "true" });
    const user = await registerUser(t);
    expect((await verify(t, await welcomeToken(t, user.email))).status).toBe(200);
    await createArticle(t, user.token);
    await t.request("PUT", "/api/user", { token: user.token, body: { user: { email: "next@example.com" } } });
    const res = await t.request("POST", "/api/articles", {
      token: user.token,
      body: { article: { title: "T", description: "d", body: "b" } },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(refused);
  });
});

describe("accounts from before verification existed", () => {
  test("the upgrade leaves them unverified (no one ever proved those addresses); they can ask for a link", async () => {
    // A database as the previous release left it: the migrations before accounts (SQLite's up to 0008,
    // Postgres's 0000), one account.
    const dir = mkdtempSync(join(tmpdir(), "quire-upgrade-"));
    const previous = join(dir, "migrations");
    const sqlite = testEngine === "sqlite";
    cpSync(sqlite ? migrationsFolder : pgMigrations, previous, { recursive: true });
    const journal = JSON.parse(readFileSync(join(previous, "meta/_journal.json"), "utf8"));
    const before = journal.entries.filter((e: { tag: string }) => e.tag < (sqlite ? "0009" : "0001"));
    writeFileSync(join(previous, "meta/_journal.json"), JSON.stringify({ ...journal, entries: before }));
    const veteran =
      "insert into users (id, username, email, password_hash, created_at, updated_at) values (1, 'veteran', 'veteran@example.com', 'x', 0, 0)";
    let url = join(dir, "quire.db");
    if (sqlite) {
      const old = new Database(url, { strict: true });
      migrate(drizzle({ client: old }), { migrationsFolder: previous });
      old.run(veteran);
      old.close();
    } else {
      url = await testDatabaseUrl({ migrated: false });
      const old: SQL = openPool({ url, poolSize: 1 });
      await applyMigrations(old, previous);
      await old.unsafe(veteran);
      await old.close();
    }

    const t = await mailApp({ DATABASE_URL: url });
    expect(await row(t, "select email_verified_at from users where id = 1")).toEqual({
      email_verified_at: null,
    });
    // They can ask for a link like anyone (here through the service: their password hash is a stand-in).
    await t.ctx.store.write((tx) => tx.emit({ type: "user.email_verification_requested", userId: 1 }));
    await deliver(t);
    expect((await verify(t, lastToken(t, "veteran@example.com", VERIFY_SUBJECT))).status).toBe(200);
    await t.ctx.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

/**
 * Password reset by email, end to end over real SMTP: the request tells nothing about who has an account, the
 * link works once and expires, and using it ends every session and the old password.
 */
import { describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, login, registerUser, row, type TestApp } from "../helpers/app.ts";
import { jobsOfType } from "../jobs/helpers.ts";
import { badToken, confirmReset, deliver, mailApp, mailsTo, RESET_SUBJECT, resetToken } from "./helpers.ts";

const NEW_PASSWORD = "a brand new passphrase";
const ask = (t: TestApp, email: string) =>
  t.request("POST", "/api/users/password-reset", { body: { user: { email } } });

describe("asking for a reset", () => {
  test("known and unknown addresses get the same status and body; only the known one gets mail", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    await deliver(t); // the welcome email

    const known = await ask(t, user.email);
    const unknown = await ask(t, "nobody@example.com");
    const knownOtherCase = await ask(t, user.email.toUpperCase());
    for (const res of [known, unknown, knownOtherCase]) {
      expect(res.status).toBe(202);
      expect(res.text).toBe(known.text);
      expect(res.headers.get("content-type")).toBe(known.headers.get("content-type"));
    }
    expect(known.body).toEqual({
      message: "If an account uses this address, an email with a link to reset its password is on its way.",
    });
    // The email is made by a job, after the answer: nothing was sent yet. Every request enqueues one (the
    // same work either way); the unknown address's names no one and sends nothing.
    expect(mailsTo(t, user.email, RESET_SUBJECT)).toHaveLength(0);
    expect((await jobsOfType(t, "mail.password-reset")).map((j) => JSON.parse(j.payload))).toEqual([
      { userId: user.id },
      { userId: null },
      { userId: user.id },
    ]);
    await deliver(t);
    expect(mailsTo(t, user.email, RESET_SUBJECT)).toHaveLength(2);
    expect((await jobsOfType(t, "mail.password-reset")).map((j) => j.state)).toEqual([
      "done",
      "done",
      "done",
    ]);
    expect(t.smtp.received.filter((m) => m.to.includes("nobody@example.com"))).toHaveLength(0);
  });

  test("every request is audited; an unknown address only as a short hash", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    await ask(t, user.email);
    await ask(t, "Someone.Else@example.com");
    const entries = await t.db.all<{ target_id: string | null; detail: string | null }>(
      "select target_id, detail from audit_log where action = 'user.password_reset_requested' order by id",
    );
    expect(entries[0]).toEqual({ target_id: String(user.id), detail: null });
    expect(entries[1]!.target_id).toBeNull();
    expect(JSON.parse(entries[1]!.detail!)).toEqual({
      reason: "unknown-email",
      emailHash: expect.any(String),
    });
    expect(entries[1]!.detail).not.toContain("someone");
  });

  test("a suspended account gets no link (and the same answer)", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    await t.db.run("update users set suspended = true where id = ?", user.id);
    const res = await ask(t, user.email);
    expect(res.status).toBe(202);
    await deliver(t);
    expect(mailsTo(t, user.email, RESET_SUBJECT)).toHaveLength(0);
  });

  test("a malformed address is 422 and nothing is recorded", async () => {
    const t = await mailApp();
    const res = await ask(t, "not an address");
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("email", "is invalid"));
    expect(await count(t, "audit_log")).toBe(0);
  });

  test("the email carries a URL-safe token of 256 random bits in a link to APP_URL", async () => {
    const t = await mailApp({ APP_URL: "https://app.example.com/" });
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    expect(token).toMatch(/^pr_[A-Za-z0-9_-]{43}$/);
    const mail = mailsTo(t, user.email, RESET_SUBJECT)[0]!;
    expect(mail.text).toContain(`https://app.example.com/reset-password?token=${token}\n`);
    expect(mail.text).toContain("The link works once, for 30 minutes.");
    // Only its hash is stored, bound to the purpose and the address it was sent to.
    const stored = (await row<{ token_hash: string; purpose: string; email: string }>(
      t,
      "select token_hash, purpose, email from account_tokens where purpose = 'password-reset'",
    ))!;
    expect(stored).toEqual({
      token_hash: new Bun.CryptoHasher("sha256").update(token).digest("base64url"),
      purpose: "password-reset",
      email: user.email,
    });
    expect(JSON.stringify(await t.db.all("select * from account_tokens"))).not.toContain(token);
    expect(JSON.stringify(await t.db.all("select * from jobs"))).not.toContain(token);
  });
});

describe("confirming a reset", () => {
  test("sets the password, ends every earlier session, signs in anew; the token works once", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const second = await login(t, user.email, user.password);
    const token = await resetToken(t, user.email);

    const res = await confirmReset(t, token, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        email: user.email,
        token: expect.any(String),
        username: user.username,
        bio: null,
        image: null,
        // The link reached the address: it is verified now.
        emailVerified: true,
        refreshToken: expect.stringMatching(/^rt_/),
      },
    });
    expect(res.text).not.toContain(NEW_PASSWORD);

    for (const old of [user.token, second]) {
      const me = await t.request("GET", "/api/user", { token: old });
      expect(me.status).toBe(401);
      expect(me.body).toEqual(envelope("token", "is invalid"));
    }
    expect((await t.request("GET", "/api/user", { token: res.body.user.token })).status).toBe(200);

    const oldLogin = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
    });
    expect(oldLogin.status).toBe(401);
    expect(await login(t, user.email, NEW_PASSWORD)).toEqual(expect.any(String));

    // Used once: the same token again changes nothing.
    const again = await confirmReset(t, token, "yet another passphrase");
    expect(again.status).toBe(400);
    expect(again.body).toEqual(badToken);
    expect(await login(t, user.email, NEW_PASSWORD)).toEqual(expect.any(String));

    const audit = await row<{ detail: string }>(
      t,
      "select detail from audit_log where action = 'user.password_reset'",
    );
    expect(JSON.parse(audit!.detail)).toEqual({ via: "email", sessionsEnded: 2 });
    // The password-change notice goes to the address.
    await deliver(t);
    expect(mailsTo(t, user.email, "Your Quire password was changed")).toHaveLength(1);
  });

  test("a completed reset retires every other reset link of the account", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const first = await resetToken(t, user.email);
    const second = await resetToken(t, user.email);
    expect(first).not.toBe(second);
    expect((await confirmReset(t, second, NEW_PASSWORD)).status).toBe(200);
    const stale = await confirmReset(t, first, "attacker's passphrase");
    expect(stale.status).toBe(400);
    expect(await login(t, user.email, NEW_PASSWORD)).toEqual(expect.any(String));
  });

  test("two concurrent confirmations with one token: exactly one wins", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    const results = await Promise.all([
      confirmReset(t, token, "first passphrase!"),
      confirmReset(t, token, "second passphrase"),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await count(t, "sessions where user_id = ? and revoked_at is null", user.id)).toBe(1);
  });

  test("the token expires after PASSWORD_RESET_TTL_SECONDS (fake clock)", async () => {
    const t = await mailApp({ PASSWORD_RESET_TTL_SECONDS: "600" });
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    expect(mailsTo(t, user.email, RESET_SUBJECT)[0]!.text).toContain("for 10 minutes");
    t.clock.advance(600_000);
    const res = await confirmReset(t, token, NEW_PASSWORD);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(badToken);
    expect(await login(t, user.email, user.password)).toEqual(expect.any(String));
  });

  test("just inside the lifetime it still works", async () => {
    const t = await mailApp({ PASSWORD_RESET_TTL_SECONDS: "600" });
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    t.clock.advance(599_000);
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(200);
  });

  test("a link sent before the address changed no longer works", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    const change = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: "moved@example.com" } },
    });
    expect(change.status).toBe(200);
    const before = await row(t, "select password_hash from users where id = ?", user.id);
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(400);
    // Nothing changed: the password is the same and the sessions still work.
    expect(await row(t, "select password_hash from users where id = ?", user.id)).toEqual(before);
    expect((await t.request("GET", "/api/user", { token: user.token })).status).toBe(200);
  });

  test("a password change through PUT /api/user retires earlier reset links", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    const change = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { password: "changed the usual way" } },
    });
    expect(change.status).toBe(200);
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(400);
    expect(await login(t, user.email, "changed the usual way")).toEqual(expect.any(String));
  });

  test("a suspended account's link stops working", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    const before = await row(t, "select password_hash from users where id = ?", user.id);
    await t.db.run("update users set suspended = true where id = ?", user.id);
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(400);
    expect(await row(t, "select password_hash from users where id = ?", user.id)).toEqual(before);
  });

  test("a short new password is 422 and the token is not spent", async () => {
    const t = await mailApp();
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    const res = await confirmReset(t, token, "short");
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("password", "is too short (minimum is 8 characters)"));
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(200);
  });

  test("neither the token nor the new password reaches a log line", async () => {
    const t = await mailApp({ LOG_LEVEL: "trace" });
    const user = await registerUser(t);
    const token = await resetToken(t, user.email);
    expect((await confirmReset(t, token, NEW_PASSWORD)).status).toBe(200);
    await deliver(t);
    const logs = t.logs.join("\n");
    expect(logs).toContain("mail sent");
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.slice(3));
    expect(logs).not.toContain(NEW_PASSWORD);
  });
});

describe("the log transport (no SMTP_URL)", () => {
  test("writes reset emails with the token redacted", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    expect((await ask(t, user.email)).status).toBe(202);
    await t.ctx.jobs.runDue();
    const mails = t.logs.map((l) => JSON.parse(l)).filter((l) => l.mail?.subject === RESET_SUBJECT);
    expect(mails).toHaveLength(1);
    expect(mails[0].mail.text).toContain("token=[redacted]");
    expect(mails[0].mail.secrets).toBeUndefined();
    const stored = await row<{ n: number }>(
      t,
      "select count(*) as n from account_tokens where purpose = 'password-reset'",
    );
    expect(stored).toEqual({ n: 1 });
  });
});

describe("rate limits", () => {
  test("per address (hashed): the 6th request for one address within the hour is 429, known or not", async () => {
    const t = await mailApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "1000" });
    const user = await registerUser(t);
    for (const email of [user.email, "ghost@example.com"]) {
      for (let i = 0; i < 5; i++) expect((await ask(t, email)).status).toBe(202);
      const refused = await ask(t, email);
      expect(refused.status).toBe(429);
      expect(Object.keys(refused.body.errors)).toEqual(["rate"]);
      expect(refused.headers.get("ratelimit-policy")).toContain('"email";q=5;w=3600');
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(600);
    }
    // Another address is not held back by them.
    expect((await ask(t, "third@example.com")).status).toBe(202);
    // An hour later the address may ask again.
    t.clock.advance(3_600_000);
    expect((await ask(t, user.email)).status).toBe(202);
    expect(await jobsOfType(t, "mail.password-reset")).toHaveLength(12);
  });

  test("per IP: requests and confirmations have their own budgets", async () => {
    const t = await mailApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await ask(t, `a${i}@example.com`)).status);
    expect(statuses).toEqual([202, 202, 429]);
    const confirms: number[] = [];
    for (let i = 0; i < 3; i++)
      confirms.push((await confirmReset(t, `pr_${"x".repeat(43)}`, NEW_PASSWORD)).status);
    expect(confirms).toEqual([400, 400, 429]);
  });
});

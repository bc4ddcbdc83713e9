/**
 * The outbox: a job caused by a write exists exactly when the write committed. And the emails those jobs send.
 */
import { describe, expect, test } from "bun:test";
import { count, createTestApp, registerUser, row, unique } from "../helpers/app.ts";
import { jobsOfType, logLines } from "./helpers.ts";

describe("outbox", () => {
  test("a registration commits its welcome-email job with it", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const jobs = await jobsOfType(t, "mail.welcome");
    expect(jobs).toHaveLength(1);
    expect(JSON.parse(jobs[0]!.payload)).toEqual({ userId: user.id });
    expect(jobs[0]).toMatchObject({ state: "pending", unique_key: `mail.welcome:${user.id}` });
  });

  test("a write that rolls back leaves no job behind", async () => {
    const t = await createTestApp();
    let seenInsideTransaction = -1;
    const off = t.ctx.events.on({
      async inTransaction(tx, e) {
        if (e.type !== "user.created") return;
        // The mail handler (registered first) has enqueued the job inside this transaction…
        seenInsideTransaction = await tx.jobs.count({ type: "mail.welcome" });
        // …and now the write fails after it.
        throw new Error("simulated failure after the insert");
      },
    });
    const username = unique("rollback");
    const res = await t.request("POST", "/api/users", {
      body: { user: { username, email: `${username}@example.com`, password: "correct horse battery" } },
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: { server: ["internal error"] } });
    expect(seenInsideTransaction).toBe(1);
    expect(await count(t, "users where username = ?", username)).toBe(0);
    expect(await count(t, "jobs")).toBe(0);

    off();
    await registerUser(t, { username });
    expect(await count(t, "jobs where type = 'mail.welcome'")).toBe(1);
  });

  test("a failed registration (taken username) enqueues nothing", async () => {
    const t = await createTestApp();
    const first = await registerUser(t);
    const res = await t.request("POST", "/api/users", {
      body: {
        user: { username: first.username, email: "other@example.com", password: "correct horse battery" },
      },
    });
    expect(res.status).toBe(409);
    expect(await count(t, "jobs")).toBe(1);
  });
});

describe("email", () => {
  test("the welcome email is sent by a job through the log transport, without secrets", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    const mails = () => logLines(t).filter((l) => l.mail);
    expect(mails()).toHaveLength(0); // enqueued, not sent inline

    expect(await t.ctx.jobs.runDue()).toBe(1);
    const [job] = await jobsOfType(t, "mail.welcome");
    expect(job!.state).toBe("done");
    expect(mails()).toHaveLength(1);
    expect(mails()[0].mail).toEqual({
      to: user.email,
      subject: "Welcome to Quire",
      text: expect.stringContaining(`Hello ${user.username},`),
      messageId: `<quire.job-${job!.id}@localhost>`,
    });
    expect(t.logs.join("\n")).not.toContain(user.password);
    expect(t.logs.join("\n")).not.toContain(user.token);
  });

  test("a password change sends a notice; other profile changes do not", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    await t.ctx.jobs.runDue();

    const bio = await t.request("PUT", "/api/user", { token: user.token, body: { user: { bio: "hi" } } });
    expect(bio.status).toBe(200);
    expect(await jobsOfType(t, "mail.password-changed")).toHaveLength(0);

    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { password: "a brand new passphrase" } },
    });
    expect(res.status).toBe(200);
    expect(await jobsOfType(t, "mail.password-changed")).toHaveLength(1);
    await t.ctx.jobs.runDue();
    const notice = logLines(t).find((l) => l.mail?.subject === "Your Quire password was changed");
    expect(notice?.mail.to).toBe(user.email);
    expect(t.logs.join("\n")).not.toContain("a brand new passphrase");
  });

  test("account-change notices go to the address on file before the change", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    await t.ctx.jobs.runDue();
    const res = await t.request("PUT", "/api/user", {
      token: user.token,
      body: { user: { email: "new-address@example.com", password: "another fine passphrase" } },
    });
    expect(res.status).toBe(200);
    expect(await jobsOfType(t, "mail.password-changed")).toHaveLength(1);
    expect(await jobsOfType(t, "mail.email-changed")).toHaveLength(1);
    await t.ctx.jobs.runDue();
    const mails = logLines(t).filter((l) => l.mail && l.mail.subject !== "Welcome to Quire");
    // The new address gets the link that verifies it (and nothing else).
    expect(mails.map((l) => [l.mail.to, l.mail.subject]).sort()).toEqual([
      ["new-address@example.com", "Confirm your email address for Quire"],
      [user.email, "Your Quire email address was changed"],
      [user.email, "Your Quire password was changed"],
    ]);
    expect(mails.find((l) => l.mail.subject.includes("email"))?.mail.text).toContain(
      "new-address@example.com",
    );
  });

  test("an email for an account deleted meanwhile is dropped, and the job completes", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    await t.db.run("DELETE FROM users WHERE id = ?", user.id);
    await t.ctx.jobs.runDue();
    expect((await jobsOfType(t, "mail.welcome"))[0]!.state).toBe("done");
    expect(logLines(t).filter((l) => l.mail)).toHaveLength(0);
    expect(await row(t, "select count(*) as n from jobs where state = 'dead'")).toEqual({ n: 0 });
  });
});

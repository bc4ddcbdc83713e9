/** GET /api/admin/jobs, GET /api/admin/jobs/stats, POST /api/admin/jobs/:id/retry. */
import { describe, expect, test } from "bun:test";
import { createTestApp, envelope, registerUser, setRole } from "../helpers/app.ts";
import { createAdmin, jobsOfType } from "./helpers.ts";

describe("who may use the jobs API", () => {
  const routes: [string, string][] = [
    ["GET", "/api/admin/jobs"],
    ["GET", "/api/admin/jobs/stats"],
    ["POST", "/api/admin/jobs/1/retry"],
  ];
  for (const [method, path] of routes) {
    test(`${method} ${path}: 401 without a token, 403 for an editor and a viewer`, async () => {
      const t = await createTestApp();
      expect((await t.request(method, path)).status).toBe(401);
      const user = await registerUser(t);
      const editor = await t.request(method, path, { token: user.token });
      expect(editor.status).toBe(403);
      expect(editor.body).toEqual(envelope("admin", "forbidden"));
      await setRole(t, user.id, "viewer");
      expect((await t.request(method, path, { token: user.token })).status).toBe(403);
    });
  }
});

describe("listing", () => {
  test("newest first, filtered by state and type, paginated, without payloads", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t); // its welcome email is job 1
    await t.ctx.jobs.enqueueNow("custom.task", { secret: "do-not-show" });
    await t.ctx.jobs.enqueueNow("custom.task", {}, { delayMs: 60_000 });
    await t.db.run("UPDATE jobs SET state = 'dead', last_error = 'boom', finished_at = 1 WHERE id = 2");

    const all = await t.request("GET", "/api/admin/jobs", { token: admin.token });
    expect(all.status).toBe(200);
    expect(all.body.jobsCount).toBe(3);
    expect(all.body.jobs.map((j: { id: number }) => j.id)).toEqual([3, 2, 1]);
    expect(all.text).not.toContain("do-not-show");
    expect(all.body.jobs[1]).toMatchObject({
      id: 2,
      type: "custom.task",
      state: "dead",
      attempts: 0,
      maxAttempts: 5,
      lastError: "boom",
      finishedAt: new Date(1).toISOString(),
    });
    expect(all.body.jobs[1]).not.toHaveProperty("payload");

    const dead = await t.request("GET", "/api/admin/jobs?state=dead", { token: admin.token });
    expect(dead.body).toMatchObject({ jobsCount: 1, jobs: [{ id: 2 }] });
    const mail = await t.request("GET", "/api/admin/jobs?type=mail.welcome&state=pending", {
      token: admin.token,
    });
    expect(mail.body).toMatchObject({ jobsCount: 1, jobs: [{ id: 1, type: "mail.welcome" }] });
    const page = await t.request("GET", "/api/admin/jobs?limit=1&offset=1", { token: admin.token });
    expect(page.body.jobsCount).toBe(3);
    expect(page.body.jobs.map((j: { id: number }) => j.id)).toEqual([2]);
  });

  test("bad filters are 422 in the envelope", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    for (const [query, field] of <[string, string][]>[
      ["state=sleeping", "state"],
      ["limit=0", "limit"],
      ["offset=-1", "offset"],
      [`type=${"x".repeat(65)}`, "type"],
    ]) {
      const res = await t.request("GET", `/api/admin/jobs?${query}`, { token: admin.token });
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
  });

  test("stats give depth and failures", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    t.ctx.jobs.register("explodes", () => {
      throw new Error("nope");
    });
    await t.ctx.jobs.enqueueNow("explodes", {}, { maxAttempts: 1 });
    await t.ctx.jobs.runDue();
    const res = await t.request("GET", "/api/admin/jobs/stats", { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      pending: 0,
      done: 1,
      dead: 1,
      byType: { "mail.welcome": { done: 1 }, explodes: { dead: 1 } },
      processed: { completed: 1, failed: 1, dead: 1 },
    });
  });
});

describe("retry", () => {
  test("a dead job runs again with a fresh attempt budget; a done one is 409", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    let fail = true;
    t.ctx.jobs.register("sometimes", () => {
      if (fail) throw new Error("down");
    });
    const id = (await t.ctx.jobs.enqueueNow("sometimes", {}, { maxAttempts: 1 }))!;
    await t.ctx.jobs.runDue();
    expect((await jobsOfType(t, "sometimes"))[0]).toMatchObject({ state: "dead", attempts: 1 });

    const res = await t.request("POST", `/api/admin/jobs/${id}/retry`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body.job).toMatchObject({ id, state: "pending", attempts: 0, finishedAt: null });
    expect(
      await t.db.all("SELECT action, actor_id, target_id FROM audit_log WHERE action = 'job.retried'"),
    ).toEqual([{ action: "job.retried", actor_id: admin.id, target_id: String(id) }]);
    fail = false;
    await t.ctx.jobs.runDue();
    expect((await jobsOfType(t, "sometimes"))[0]).toMatchObject({ state: "done", attempts: 1 });

    const again = await t.request("POST", `/api/admin/jobs/${id}/retry`, { token: admin.token });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(envelope("job", "is done"));
    expect((await jobsOfType(t, "sometimes"))[0]!.state).toBe("done");
  });

  test("unknown job 404, malformed id 422", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const missing = await t.request("POST", "/api/admin/jobs/999/retry", { token: admin.token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(envelope("job", "not found"));
    const bad = await t.request("POST", "/api/admin/jobs/abc/retry", { token: admin.token });
    expect(bad.status).toBe(422);
  });
});

/**
 * Deliveries to a real receiver on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true), verified with the
 * reference Standard Webhooks library; retries, the circuit breaker, redirects, timeouts, the body cap and the
 * SSRF check at delivery time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import {
  addComment,
  count,
  createArticle,
  createTestApp,
  registerUser,
  type TestApp,
} from "../helpers/app.ts";
import { createAdmin, jobsOfType } from "../jobs/helpers.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) r.stop();
});

function receiver(respond: Parameters<typeof startReceiver>[0] = () => new Response(null, { status: 204 })) {
  const r = startReceiver(respond);
  receivers.push(r);
  return r;
}

async function setup(
  events: string[],
  respond?: Parameters<typeof startReceiver>[0],
  env: Record<string, string> = {},
) {
  const t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", ...env });
  const admin = await createAdmin(t);
  const rx = receiver(respond);
  const res = await t.request("POST", "/api/admin/webhooks", {
    token: admin.token,
    body: { url: rx.url, events },
  });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
  return { t, admin, rx, hook: res.body.webhook as { id: number; secret: string } };
}

const deliveries = async (t: TestApp, token: string, id: number) =>
  (await t.request("GET", `/api/admin/webhooks/${id}/deliveries`, { token })).body.deliveries;

describe("signed deliveries", () => {
  test("an article.created delivery verifies with the reference library and carries the article", async () => {
    const { t, admin, rx, hook } = await setup(["article.created"]);
    const article = await createArticle(t, admin.token, { title: "Hello hooks", tagList: ["a", "b"] });
    expect(await jobsOfType(t, "webhook.deliver")).toHaveLength(1);
    expect(rx.requests).toHaveLength(0); // sent by a job, not inside the request
    await t.ctx.jobs.runDue();

    expect(rx.requests).toHaveLength(1);
    const [req] = rx.requests;
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["webhook-id"]).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    const payload = new Webhook(hook.secret).verify(req!.body, req!.headers);
    expect(payload).toMatchObject({
      type: "article.created",
      timestamp: expect.any(String),
      data: {
        article: {
          slug: article.slug,
          title: "Hello hooks",
          tagList: ["a", "b"],
          author: { username: admin.username },
        },
      },
    });
    // Another secret, or a body changed in transit, does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(req!.body, req!.headers),
    ).toThrow();
    expect(() =>
      new Webhook(hook.secret).verify(req!.body.replace("Hello", "Hallo"), req!.headers),
    ).toThrow();
    // The secret never travels.
    expect(JSON.stringify(req)).not.toContain(hook.secret.slice(6));

    expect((await jobsOfType(t, "webhook.deliver"))[0]).toMatchObject({ state: "done", attempts: 1 });
    expect(await deliveries(t, admin.token, hook.id)).toMatchObject([
      {
        messageId: req!.headers["webhook-id"],
        event: "article.created",
        attempt: 1,
        statusCode: 204,
        ok: true,
      },
    ]);
  });

  test("only subscribed events are delivered; deleted rows are described as they were", async () => {
    const { t, admin, rx, hook } = await setup([
      "article.deleted",
      "comment.created",
      "comment.deleted",
      "user.created",
    ]);
    const article = await createArticle(t, admin.token, { title: "Short lived" });
    const comment = await addComment(t, admin.token, article.slug, "First!");
    expect(
      (
        await t.request("DELETE", `/api/articles/${article.slug}/comments/${comment.id}`, {
          token: admin.token,
        })
      ).status,
    ).toBe(204);
    expect((await t.request("DELETE", `/api/articles/${article.slug}`, { token: admin.token })).status).toBe(
      204,
    );
    const other = await registerUser(t);
    await t.ctx.jobs.runDue();

    const received = rx.requests.map(
      (r) =>
        new Webhook(hook.secret).verify(r.body, r.headers) as { type: string; data: Record<string, unknown> },
    );
    expect(received.map((p) => p.type).sort()).toEqual([
      "article.deleted",
      "comment.created",
      "comment.deleted",
      "user.created",
    ]);
    const byType = Object.fromEntries(received.map((p) => [p.type, p.data]));
    expect(byType["comment.deleted"]).toMatchObject({
      comment: { id: comment.id, body: "First!" },
      article: { slug: article.slug },
    });
    expect(byType["article.deleted"]).toMatchObject({
      article: { slug: article.slug, title: "Short lived" },
    });
    // Public facts only: the new user's email address is not sent to third parties.
    expect(byType["user.created"]).toEqual({ user: { username: other.username } });
  });

  test("a host name is resolved, the connection pinned to the vetted address, the Host header kept", async () => {
    const t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    const admin = await createAdmin(t);
    const rx = receiver();
    const url = `http://localhost:${rx.port}/hook`;
    await t.request("POST", "/api/admin/webhooks", {
      token: admin.token,
      body: { url, events: ["article.created"] },
    });
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.headers.host).toBe(`localhost:${rx.port}`);
  });

  test("an endpoint deleted before delivery gets nothing and the job completes", async () => {
    const { t, admin, rx, hook } = await setup(["article.created"]);
    await createArticle(t, admin.token);
    await t.request("DELETE", `/api/admin/webhooks/${hook.id}`, { token: admin.token });
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(0);
    expect((await jobsOfType(t, "webhook.deliver"))[0]!.state).toBe("done");
  });
});

describe("failures", () => {
  test("a receiver that fails twice gets the delivery on the third try, same webhook-id", async () => {
    const { t, admin, rx, hook } = await setup(["article.created"], (_r, n) =>
      n <= 2 ? new Response("try later", { status: 500 }) : new Response("ok"),
    );
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(1);
    expect((await jobsOfType(t, "webhook.deliver"))[0]).toMatchObject({
      state: "pending",
      attempts: 1,
      last_error: "HTTP 500",
    });
    // Backoff: ≤ 10 s after the first failure, ≤ 40 s after the second.
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(1);
    t.clock.advance(10_000);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(2);
    t.clock.advance(40_000);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(3);

    expect(new Set(rx.requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Webhook(hook.secret).verify(rx.requests[2]!.body, rx.requests[2]!.headers)).toBeTruthy();
    expect((await jobsOfType(t, "webhook.deliver"))[0]).toMatchObject({ state: "done", attempts: 3 });
    const log = await deliveries(t, admin.token, hook.id);
    expect(
      log.map((d: { attempt: number; statusCode: number; ok: boolean }) => [d.attempt, d.statusCode, d.ok]),
    ).toEqual([
      [3, 200, true],
      [2, 500, false],
      [1, 500, false],
    ]);
  });

  test("a dead receiver opens the breaker: further deliveries wait without a request, then recover", async () => {
    let healthy = false;
    const { t, admin, rx, hook } = await setup(
      ["article.created"],
      () => new Response(null, { status: healthy ? 204 : 503 }),
      { WEBHOOK_BREAKER_THRESHOLD: "3", WEBHOOK_BREAKER_HALF_OPEN_MS: "1000", JOBS_CONCURRENCY: "1" },
    );
    for (let i = 0; i < 6; i++) await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    // Three failures opened the circuit; the other three deliveries were postponed without a request.
    expect(rx.requests).toHaveLength(3);
    const jobs = await jobsOfType(t, "webhook.deliver");
    expect(jobs.map((j) => j.attempts)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(jobs.every((j) => j.state === "pending")).toBe(true);
    const log = await deliveries(t, admin.token, hook.id);
    expect(log.filter((d: { error: string }) => d.error === "circuit open: not sent")).toHaveLength(3);
    const view = await t.request("GET", `/api/admin/webhooks/${hook.id}`, { token: admin.token });
    expect(view.body.webhook.circuit).toBe("open");

    // Retries that come due while the circuit is open do not reach the receiver either.
    t.clock.advance(11_000);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(3);

    // After the half-open delay one trial goes through; it succeeds, the circuit closes, everything is delivered.
    healthy = true;
    await Bun.sleep(1_100);
    t.clock.advance(120_000);
    await t.ctx.jobs.runDue();
    expect((await jobsOfType(t, "webhook.deliver")).map((j) => j.state)).toEqual(Array(6).fill("done"));
    expect(rx.requests).toHaveLength(9);
    expect(new Set(rx.requests.slice(3).map((r) => r.headers["webhook-id"])).size).toBe(6);
  });

  test("redirects are not followed", async () => {
    const { t, admin, rx, hook } = await setup(["article.created"], (r) =>
      r.path === "/hook"
        ? Response.redirect(`http://127.0.0.1:${rx.port}/elsewhere`, 302)
        : new Response("ok"),
    );
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect(rx.requests.map((r) => r.path)).toEqual(["/hook"]);
    expect((await deliveries(t, admin.token, hook.id))[0]).toMatchObject({
      statusCode: 302,
      ok: false,
      error: "redirect not followed",
    });
  });

  test("a receiver that never answers is abandoned at WEBHOOK_TIMEOUT_MS", async () => {
    const { t, admin, hook } = await setup(
      ["article.created"],
      async () => {
        await Bun.sleep(5_000);
        return new Response("too late");
      },
      { WEBHOOK_TIMEOUT_MS: "200" },
    );
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect((await deliveries(t, admin.token, hook.id))[0]).toMatchObject({ ok: false, error: "timed out" });
    expect((await jobsOfType(t, "webhook.deliver"))[0]!.state).toBe("pending");
  });

  test("an endless response body is read only up to the cap", async () => {
    const chunk = new Uint8Array(16 * 1024).fill(120);
    const { t, admin, hook } = await setup(
      ["article.created"],
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              controller.enqueue(chunk); // never closes: only a capped reader gets out
            },
          }),
        ),
      { WEBHOOK_TIMEOUT_MS: "5000" },
    );
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect((await deliveries(t, admin.token, hook.id))[0]).toMatchObject({ ok: true, statusCode: 200 });
  });
});

test("the SSRF check runs again at delivery: an endpoint that now points inside is not called", async () => {
  const t = await createTestApp(); // private networks not allowed
  const admin = await createAdmin(t);
  const rx = receiver();
  // As if DNS had changed since registration: the stored URL now reaches loopback.
  await t.db.run(
    "INSERT INTO webhooks (url, events, secret) VALUES (?, '[\"article.created\"]', ?)",
    rx.url,
    `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
  );
  await createArticle(t, admin.token);
  await t.ctx.jobs.runDue();
  expect(rx.requests).toHaveLength(0);
  expect((await jobsOfType(t, "webhook.deliver"))[0]).toMatchObject({
    state: "dead",
    last_error: "url resolves to a non-public address (loopback)",
  });
  expect(await count(t, "webhook_deliveries where ok = false")).toBe(1);
});

/**
 * The webhook retry policy, against the real job queue, the fake clock and a real receiver on 127.0.0.1:
 * WEBHOOK_MAX_ATTEMPTS attempts, each retry between half and all of 10 s × 4ⁿ⁻¹ (equal jitter) capped at
 * 12 h, then the delivery is dead and nothing more is sent. The circuit breaker is set out of reach here
 * (its own tests are in delivery.test.ts) so that every attempt reaches the receiver.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createArticle, createTestApp, login, type TestApp } from "../helpers/app.ts";
import { createAdmin, jobsOfType } from "../jobs/helpers.ts";
import { type Receiver, startReceiver } from "./receiver.ts";

const SECOND = 1_000;
const HOUR = 3_600 * SECOND;
/** The longest wait before retry n (n = 1 after the first failure): 10 s × 4ⁿ⁻¹, at most 12 h. */
const ceiling = (n: number) => Math.min(10 * SECOND * 4 ** (n - 1), 12 * HOUR);

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) r.stop();
});

/** An app whose one webhook points at a receiver that always answers 503. */
async function failingEndpoint(env: Record<string, string> = {}) {
  const t = await createTestApp({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    WEBHOOK_BREAKER_THRESHOLD: "1000",
    ...env,
  });
  const admin = await createAdmin(t);
  const rx = startReceiver(() => new Response("down", { status: 503 }));
  receivers.push(rx);
  const res = await t.request("POST", "/api/admin/webhooks", {
    token: admin.token,
    body: { url: rx.url, events: ["article.created"] },
  });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
  return { t, admin, rx, hookId: res.body.webhook.id as number };
}

const delivery = async (t: TestApp) => (await jobsOfType(t, "webhook.deliver"))[0]!;

/**
 * Walk a failing delivery through every retry: each is scheduled within its bounds, does not run a
 * millisecond before the lower bound whatever the jitter drew, and runs by the upper bound.
 */
async function walkRetries(t: TestApp, rx: Receiver, attempts: number) {
  const waits: number[] = [];
  for (let n = 1; n < attempts; n++) {
    expect(await delivery(t)).toMatchObject({ state: "pending", attempts: n, last_error: "HTTP 503" });
    const wait = (await delivery(t)).run_at - t.clock.now();
    waits.push(wait);
    expect(wait).toBeGreaterThanOrEqual(ceiling(n) / 2);
    expect(wait).toBeLessThanOrEqual(ceiling(n));
    t.clock.advance(ceiling(n) / 2 - 1);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(n);
    t.clock.advance(ceiling(n) / 2 + 1);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(n + 1);
  }
  return waits;
}

describe("webhook retry policy", () => {
  test("default: 8 attempts, 10 s × 4ⁿ⁻¹ apart with jitter, then dead and never sent again", async () => {
    const { t, admin, rx, hookId } = await failingEndpoint();
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(1);

    await walkRetries(t, rx, 8);
    expect(await delivery(t)).toMatchObject({
      state: "dead",
      attempts: 8,
      max_attempts: 8,
      last_error: "HTTP 503",
    });
    // The same message every time, and every attempt in the delivery log.
    expect(new Set(rx.requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // Fifteen hours have passed on the clock: the morning's token has expired.
    const token = await login(t, admin.email, admin.password);
    const log = await t.request("GET", `/api/admin/webhooks/${hookId}/deliveries`, { token });
    expect(log.status).toBe(200);
    expect(
      log.body.deliveries.map((d: { attempt: number; statusCode: number; ok: boolean }) => [
        d.attempt,
        d.statusCode,
        d.ok,
      ]),
    ).toEqual([8, 7, 6, 5, 4, 3, 2, 1].map((n) => [n, 503, false]));
    // Dead is final: two days later nothing more has been sent.
    t.clock.advance(48 * HOUR);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(8);
    expect((await delivery(t)).state).toBe("dead");
  });

  test("WEBHOOK_MAX_ATTEMPTS=10: ten attempts, the late waits capped at 12 h, then dead", async () => {
    const { t, admin, rx } = await failingEndpoint({ WEBHOOK_MAX_ATTEMPTS: "10", JOBS_MAX_ATTEMPTS: "5" });
    await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    const waits = await walkRetries(t, rx, 10);
    // Retries 7–9 would wait 11.4 h, 45.5 h and 182 h uncapped.
    expect(waits.slice(7).every((w) => w <= 12 * HOUR && w >= 6 * HOUR)).toBe(true);
    expect(await delivery(t)).toMatchObject({ state: "dead", attempts: 10 });
    expect(rx.requests).toHaveLength(10);
  });

  test("jitter spreads retries of deliveries that failed together over the upper half of the delay", async () => {
    const { t, admin, rx } = await failingEndpoint({ JOBS_CONCURRENCY: "4" });
    for (let i = 0; i < 12; i++) await createArticle(t, admin.token);
    await t.ctx.jobs.runDue();
    expect(rx.requests).toHaveLength(12);
    const now = t.clock.now();
    const waits = (await jobsOfType(t, "webhook.deliver")).map((j) => j.run_at - now);
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(5 * SECOND);
      expect(w).toBeLessThanOrEqual(10 * SECOND);
    }
    // Not one thundering herd: twelve draws of a continuous jitter do not all coincide.
    expect(new Set(waits).size).toBeGreaterThan(1);
  });
});

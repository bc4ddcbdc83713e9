/** Housekeeping: what the purge removes and keeps; the checkpoint/optimize job on a WAL database. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeContext } from "../../src/context.ts";
import { optimizeDatabase, purgeExpired } from "../../src/modules/jobs/housekeeping.ts";
import { count, createTestApp, registerUser, type TestApp } from "../helpers/app.ts";
import { logLines } from "./helpers.ts";

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), "quire-housekeeping-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function session(
  t: TestApp,
  id: string,
  userId: number,
  expiresAt: number,
  revokedAt: number | null = null,
) {
  await t.db.run(
    "INSERT INTO sessions (id, user_id, expires_at, revoked_at) VALUES (?, ?, ?, ?)",
    id,
    userId,
    expiresAt,
    revokedAt,
  );
}

async function refreshToken(
  t: TestApp,
  hash: string,
  sessionId: string,
  expiresAt: number,
  usedAt: number | null,
) {
  await t.db.run(
    "INSERT INTO refresh_tokens (session_id, token_hash, expires_at, used_at) VALUES (?, ?, ?, ?)",
    sessionId,
    hash,
    expiresAt,
    usedAt,
  );
}

test("purge removes ended sessions, dead tokens, old jobs and deliveries, and keeps what is still needed", async () => {
  const t = await createTestApp({ JOBS_RETENTION_DAYS: "7", AUDIT_RETENTION_DAYS: "30" });
  const user = await registerUser(t);
  const now = t.clock.now();
  await t.db.run("DELETE FROM sessions");
  await session(t, "live", user.id, now + DAY);
  await session(t, "expired", user.id, now - 1);
  await session(t, "revoked-long-ago", user.id, now + DAY, now - 2 * DAY);
  await session(t, "revoked-just-now", user.id, now + DAY, now - 1_000);
  await refreshToken(t, "live-current", "live", now + DAY, null);
  await refreshToken(t, "live-used", "live", now + DAY, now - 1_000); // kept: reuse detection needs it
  await refreshToken(t, "live-expired", "live", now - 1, now - DAY);
  await refreshToken(t, "expired-session", "expired", now + DAY, null); // goes with its session
  await refreshToken(t, "revoked-used", "revoked-just-now", now + DAY, now - 5_000); // session ended: no reuse to detect
  await refreshToken(t, "revoked-unused", "revoked-just-now", now + DAY, null);

  await t.db.run("DELETE FROM jobs");
  const jobs = [
    ["done", now - 8 * DAY],
    ["dead", now - 8 * DAY],
    ["done", now - 6 * DAY],
    ["pending", null],
  ] as const;
  for (const [state, finishedAt] of jobs) {
    await t.db.run(
      "INSERT INTO jobs (type, state, run_at, finished_at) VALUES ('x', ?, ?, ?)",
      state,
      now - 9 * DAY,
      finishedAt,
    );
  }
  await t.db.run(
    "INSERT INTO webhooks (url, events, secret) VALUES ('https://example.com', '[]', 'whsec_x')",
  );
  for (const at of [now - 8 * DAY, now - DAY]) {
    await t.db.run(
      "INSERT INTO webhook_deliveries (webhook_id, message_id, event, attempt, ok, created_at) VALUES (1, 'm', 'e', 1, true, ?)",
      at,
    );
  }

  await t.db.run("DELETE FROM audit_log");
  for (const at of [now - 31 * DAY, now - 29 * DAY]) {
    await t.db.run("INSERT INTO audit_log (at, action) VALUES (?, 'user.login_failed')", at);
  }

  await t.db.run("DELETE FROM account_tokens");
  for (const [hash, expiresAt, usedAt] of [
    ["unused", now + DAY, null], // kept: its link still works
    ["used", now + DAY, now - 1_000],
    ["expired", now - 1, null],
  ] as const) {
    await t.db.run(
      "INSERT INTO account_tokens (user_id, purpose, token_hash, email, expires_at, used_at) VALUES (?, 'password-reset', ?, 'a@example.com', ?, ?)",
      user.id,
      hash,
      expiresAt,
      usedAt,
    );
  }

  const removed = await purgeExpired(t.ctx);
  expect(removed).toEqual({
    sessions: 2,
    refreshTokens: 2,
    accountTokens: 2,
    jobs: 2,
    webhookDeliveries: 1,
    audit: 1,
  });
  expect(await count(t, "audit_log")).toBe(1);
  const ids = async (sql: string) => (await t.db.all<{ v: string }>(sql)).map((r) => r.v);
  expect(await ids("SELECT id AS v FROM sessions ORDER BY id")).toEqual(["live", "revoked-just-now"]);
  expect(await ids("SELECT token_hash AS v FROM refresh_tokens ORDER BY token_hash")).toEqual([
    "live-current",
    "live-used",
    "revoked-unused",
  ]);
  expect(await ids("SELECT state AS v FROM jobs ORDER BY id")).toEqual(["done", "pending"]);
  expect(await count(t, "webhook_deliveries")).toBe(1);
  expect(await ids("SELECT token_hash AS v FROM account_tokens")).toEqual(["unused"]);
});

test("large backlogs are purged in batches, all of them", async () => {
  const t = await createTestApp();
  const old = t.clock.now() - 30 * DAY;
  await t.db.run(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4500)
     INSERT INTO jobs (type, state, run_at, finished_at) SELECT 'bulk', 'done', ?1, ?1 FROM n`,
    old,
  );
  const removed = await purgeExpired(t.ctx);
  expect(removed.jobs).toBe(4500);
  expect(await count(t, "jobs where type = 'bulk'")).toBe(0);
});

test("housekeeping runs as recurring jobs: checkpoint and optimize on a WAL file", async () => {
  const t = await createTestApp({ DATABASE_URL: join(dir, "hk.db"), LOG_LEVEL: "info" });
  try {
    await registerUser(t);
    await optimizeDatabase(t.ctx);
    const line = logLines(t).find((l) => l.msg === "housekeeping: optimized");
    expect(line.checkpoint).toEqual({ busy: 0, log: expect.any(Number), checkpointed: expect.any(Number) });

    await t.ctx.jobs.scheduleRecurring();
    const rows = () =>
      t.db.all<{ type: string; state: string; run_at: number }>(
        "SELECT type, state, run_at FROM jobs WHERE unique_key LIKE 'recurring:%' ORDER BY type",
      );
    expect((await rows()).map((r) => r.type)).toEqual(["housekeeping.optimize", "housekeeping.purge"]);
    await t.ctx.jobs.runDue();
    const next = t.clock.now() + t.ctx.config.HOUSEKEEPING_INTERVAL_MS;
    expect(await rows()).toEqual([
      { type: "housekeeping.optimize", state: "pending", run_at: next },
      { type: "housekeeping.purge", state: "pending", run_at: next },
    ]);
  } finally {
    await closeContext(t.ctx);
  }
});

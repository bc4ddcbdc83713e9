/** The operational repositories (jobs, webhooks, flags, housekeeping) through the Store interface. */
import { expect, test } from "bun:test";
import type { NewJob } from "../../src/store/operations.ts";
import { describeEngines } from "./engines.ts";
import { addUser, page, T0 } from "./fixtures.ts";

const job = (over: Partial<NewJob> = {}): NewJob => ({
  type: "mail",
  payload: '{"to":"x"}',
  runAt: T0,
  maxAttempts: 3,
  uniqueKey: null,
  now: T0,
  ...over,
});

describeEngines("jobs repository", (_engine, use) => {
  test("enqueue dedupes by unique key; claim takes the earliest due job of handled types, leased", async () => {
    const { store } = use();
    const first = await store.write((tx) => tx.jobs.enqueue(job({ uniqueKey: "k1", runAt: T0 + 5 })));
    expect(first).toBeNumber();
    expect(await store.write((tx) => tx.jobs.enqueue(job({ uniqueKey: "k1" })))).toBeUndefined();
    const early = await store.write((tx) => tx.jobs.enqueue(job({ runAt: T0 })));
    const other = await store.write((tx) => tx.jobs.enqueue(job({ type: "other", runAt: T0 - 10 })));
    const claim = (now: number) => store.write((tx) => tx.jobs.claim(["mail"], now, 1000, "w1"));
    expect(await store.write((tx) => tx.jobs.claim(["mail"], T0 - 1, 1000, "w1"))).toBeUndefined(); // none due yet
    const got = await claim(T0 + 10);
    expect(got).toMatchObject({
      id: early,
      type: "mail",
      payload: '{"to":"x"}',
      state: "running",
      attempts: 1,
    });
    expect(got).toMatchObject({ lockedBy: "w1", lockedUntil: T0 + 1010, updatedAt: T0 + 10, maxAttempts: 3 });
    expect((await claim(T0 + 10))?.id).toBe(first!);
    expect(await claim(T0 + 10)).toBeUndefined(); // "other" is not a handled type
    expect(await store.write((tx) => tx.jobs.claim([], T0 + 10, 1000, "w1"))).toBeUndefined();
    // A running job whose lease ran out is claimed again by someone else.
    const again = await store.write((tx) => tx.jobs.claim(["mail", "other"], T0 + 2000, 1000, "w2"));
    expect(again?.id).toBe(other!);
    const lapsed = await store.write((tx) => tx.jobs.claim(["mail"], T0 + 2000, 1000, "w2"));
    expect(lapsed).toMatchObject({ id: early, lockedBy: "w2", attempts: 2 });
  });

  test("transitions apply only to the claim that holds the job", async () => {
    const { store } = use();
    const id = (await store.write((tx) => tx.jobs.enqueue(job())))!;
    await store.write((tx) => tx.jobs.claim(["mail"], T0, 1000, "w1"));
    const move = (lock: string, change: Parameters<typeof store.read.jobs.transition>[2]) =>
      store.write((tx) => tx.jobs.transition(id, lock, change, T0 + 1));
    expect(await move("intruder", { to: "done", error: null })).toBe(false);
    expect(await store.write((tx) => tx.jobs.extend(id, "w1", T0 + 5000))).toBe(true);
    expect(await store.write((tx) => tx.jobs.extend(id, "intruder", T0 + 9000))).toBe(false);
    expect((await store.read.jobs.byId(id))?.lockedUntil).toBe(T0 + 5000);
    expect(await move("w1", { to: "retry", runAt: T0 + 100, error: "boom", resetAttempts: false })).toBe(
      true,
    );
    expect(await store.read.jobs.byId(id)).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: "boom",
      runAt: T0 + 100,
      lockedBy: null,
      lockedUntil: null,
    });
    await store.write((tx) => tx.jobs.claim(["mail"], T0 + 100, 1000, "w1"));
    expect(await move("w1", { to: "postponed", runAt: T0 + 200, error: null })).toBe(true);
    expect(await store.read.jobs.byId(id)).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: "boom",
    });
    await store.write((tx) => tx.jobs.claim(["mail"], T0 + 200, 1000, "w1"));
    expect(await move("w1", { to: "postponed", runAt: T0 + 300, error: "circuit open" })).toBe(true);
    expect(await store.read.jobs.byId(id)).toMatchObject({
      attempts: 1,
      lastError: "circuit open",
      runAt: T0 + 300,
    });
    await store.write((tx) => tx.jobs.claim(["mail"], T0 + 300, 1000, "w1"));
    expect(await move("w1", { to: "retry", runAt: T0 + 400, error: "again", resetAttempts: true })).toBe(
      true,
    );
    expect((await store.read.jobs.byId(id))?.attempts).toBe(0);
    await store.write((tx) => tx.jobs.claim(["mail"], T0 + 400, 1000, "w1"));
    expect(await move("w1", { to: "dead", error: "gave up" })).toBe(true);
    expect(await store.read.jobs.byId(id)).toMatchObject({
      state: "dead",
      finishedAt: T0 + 1,
      lastError: "gave up",
      lockedBy: null,
    });
    expect(await move("w1", { to: "done", error: null })).toBe(false); // no longer running
    const retried = await store.write((tx) => tx.jobs.retry(id, T0 + 50));
    expect(retried).toMatchObject({ id, state: "pending", attempts: 0, runAt: T0 + 50, finishedAt: null });
    await store.write((tx) => tx.jobs.claim(["mail"], T0 + 50, 1000, "w3"));
    expect(await store.write((tx) => tx.jobs.retry(id, T0 + 60))).toBeUndefined(); // running: not retried
    expect(await move("w3", { to: "next", runAt: T0 + 999 })).toBe(true);
    expect(await store.read.jobs.byId(id)).toMatchObject({
      state: "pending",
      attempts: 0,
      lastError: null,
      runAt: T0 + 999,
    });
  });

  test("recurring rows: created once, pulled forward, left alone while running, revived when finished", async () => {
    const { store } = use();
    const schedule = (now: number, intervalMs: number) =>
      store.write((tx) =>
        tx.jobs.scheduleRecurring({ type: "tick", uniqueKey: "every:tick", intervalMs, maxAttempts: 2, now }),
      );
    await schedule(T0, 60_000);
    await schedule(T0, 60_000);
    const [row] = await store.read.jobs.list({ type: "tick" }, page());
    expect(row).toMatchObject({
      state: "pending",
      runAt: T0,
      uniqueKey: "every:tick",
      maxAttempts: 2,
      payload: "{}",
    });
    expect(await store.read.jobs.count({ type: "tick" })).toBe(1);
    await store.write((tx) => tx.jobs.transition(row!.id, "x", { to: "done", error: null }, T0)); // not held: no-op
    await store.write((tx) => tx.jobs.claim(["tick"], T0, 1000, "w"));
    await store.write((tx) => tx.jobs.transition(row!.id, "w", { to: "next", runAt: T0 + 60_000 }, T0 + 1));
    await schedule(T0 + 2, 10_000); // the interval shrank: pulled forward to now + interval
    expect((await store.read.jobs.byId(row!.id))?.runAt).toBe(T0 + 10_002);
    await store.write((tx) => tx.jobs.claim(["tick"], T0 + 10_002, 1000, "w"));
    await schedule(T0 + 10_003, 1);
    expect(await store.read.jobs.byId(row!.id)).toMatchObject({ state: "running", runAt: T0 + 10_002 });
    await store.write((tx) => tx.jobs.transition(row!.id, "w", { to: "dead", error: "x" }, T0 + 10_004));
    await schedule(T0 + 20_000, 60_000);
    expect((await store.read.jobs.byId(row!.id))?.state).toBe("pending");
  });

  test("counts, list and count by state and type", async () => {
    const { store } = use();
    await store.write(async (tx) => {
      await tx.jobs.enqueue(job({ runAt: T0 - 100 }));
      await tx.jobs.enqueue(job({ runAt: T0 + 100 }));
      await tx.jobs.enqueue(job({ type: "hook", runAt: T0 - 50 }));
    });
    const claimed = await store.write((tx) => tx.jobs.claim(["mail"], T0, 10, "w"));
    await store.write((tx) =>
      tx.jobs.transition(
        claimed!.id,
        "w",
        { to: "retry", runAt: T0 - 1, error: "e", resetAttempts: false },
        T0,
      ),
    );
    const counts = await store.read.jobs.counts(T0);
    expect(counts.byTypeAndState).toEqual([
      { type: "hook", state: "pending", n: 1 },
      { type: "mail", state: "pending", n: 2 },
    ]);
    expect(counts).toMatchObject({ retrying: 1, ready: 2, oldestReadyAt: T0 - 50 });
    expect((await store.read.jobs.counts(T0 - 1000)).oldestReadyAt).toBeNull();
    expect((await store.read.jobs.list({ type: "mail" }, page())).map((j) => j.runAt)).toEqual([
      T0 + 100,
      T0 - 1,
    ]);
    expect(await store.read.jobs.count({ state: "pending", type: "hook" })).toBe(1);
    expect(await store.read.jobs.count({ state: "dead" })).toBe(0);
    expect(await store.read.jobs.byId(999_999)).toBeUndefined();
  });
});

describeEngines("webhooks repository", (_engine, use) => {
  test("endpoints, subscriptions and the delivery log", async () => {
    const { store } = use();
    const w1 = await store.write((tx) =>
      tx.webhooks.insert({
        url: "https://a.example/h",
        events: ["article.created", "user.created"],
        secret: "s1",
        now: T0,
      }),
    );
    expect(w1).toMatchObject({
      url: "https://a.example/h",
      events: ["article.created", "user.created"],
      secret: "s1",
      enabled: true,
      createdAt: T0,
    });
    const w2 = await store.write((tx) =>
      tx.webhooks.insert({ url: "https://b.example/h", events: ["article.created"], secret: "s2", now: T0 }),
    );
    expect(await store.read.webhooks.count()).toBe(2);
    expect((await store.read.webhooks.list(page())).map((w) => w.id)).toEqual([w1.id, w2.id]);
    expect(await store.read.webhooks.byId(w2.id)).toEqual(w2);
    expect(await store.read.webhooks.subscribedTo("article.created")).toEqual([w1.id, w2.id]);
    expect(await store.read.webhooks.subscribedTo("user.created")).toEqual([w1.id]);
    expect(await store.read.webhooks.subscribedTo("article")).toEqual([]);
    const delivery = {
      webhookId: w1.id,
      messageId: "m1",
      event: "user.created",
      statusCode: 200,
      ok: true,
      error: null,
      durationMs: 12,
    };
    await store.write(async (tx) => {
      await tx.webhooks.recordDelivery({ ...delivery, attempt: 1, createdAt: T0 });
      await tx.webhooks.recordDelivery({
        ...delivery,
        attempt: 2,
        statusCode: null,
        ok: false,
        error: "timeout",
        durationMs: null,
        createdAt: T0 + 1,
      });
    });
    const log = await store.read.webhooks.deliveries(w1.id, page());
    expect(log.map((d) => [d.attempt, d.ok, d.statusCode, d.error])).toEqual([
      [2, false, null, "timeout"],
      [1, true, 200, null],
    ]);
    expect(log[1]).toMatchObject({
      webhookId: w1.id,
      messageId: "m1",
      event: "user.created",
      durationMs: 12,
      createdAt: T0,
    });
    expect(await store.read.webhooks.countDeliveries(w1.id)).toBe(2);
    expect(await store.write((tx) => tx.webhooks.delete(w1.id))).toBe(true);
    expect(await store.write((tx) => tx.webhooks.delete(w1.id))).toBe(false);
    expect(await store.read.webhooks.countDeliveries(w1.id)).toBe(0);
    expect(await store.read.webhooks.byId(w1.id)).toBeUndefined();
  });
});

describeEngines("flags repository", (_engine, use) => {
  test("upsert inserts then replaces", async () => {
    const { store } = use();
    expect(await store.read.flags.all()).toEqual([]);
    await store.write((tx) =>
      tx.flags.upsert({ name: "search", enabled: true, percentage: 100, updatedAt: T0 }),
    );
    await store.write((tx) =>
      tx.flags.upsert({ name: "beta", enabled: false, percentage: 10, updatedAt: T0 }),
    );
    await store.write((tx) =>
      tx.flags.upsert({ name: "search", enabled: false, percentage: 50, updatedAt: T0 + 1 }),
    );
    expect(await store.read.flags.all()).toEqual([
      { name: "beta", enabled: false, percentage: 10, updatedAt: T0 },
      { name: "search", enabled: false, percentage: 50, updatedAt: T0 + 1 },
    ]);
  });
});

describeEngines("housekeeping repository", (_engine, use) => {
  const DAY = 86_400_000;
  test("each purge removes at most `limit` matching rows and leaves the rest", async () => {
    const { store } = use();
    const u = await addUser(store, "u");
    await store.write(async (tx) => {
      await tx.sessions.insert({ id: "expired", userId: u.id, expiresAt: T0 - 1, now: T0 - DAY });
      await tx.sessions.insert({
        id: "ended-long-ago",
        userId: u.id,
        expiresAt: T0 + DAY,
        now: T0 - 3 * DAY,
      });
      await tx.sessions.insert({ id: "live", userId: u.id, expiresAt: T0 + DAY, now: T0 });
      await tx.sessions.insertRefreshToken({
        sessionId: "live",
        tokenHash: "old",
        expiresAt: T0 - 1,
        now: T0 - DAY,
      });
      await tx.sessions.insertRefreshToken({
        sessionId: "live",
        tokenHash: "used-live",
        expiresAt: T0 + DAY,
        now: T0,
      });
      await tx.sessions.insertRefreshToken({
        sessionId: "live",
        tokenHash: "current",
        expiresAt: T0 + DAY,
        now: T0,
      });
    });
    await store.write(async (tx) => {
      await tx.sessions.end({ sid: "ended-long-ago" }, T0 - 2 * DAY);
      await tx.sessions.claimRefreshToken("used-live", T0);
    });
    expect(await store.write((tx) => tx.housekeeping.purgeRefreshTokens(T0, 10))).toBe(1); // only "old"
    expect(await store.read.sessions.refreshTokenState("used-live")).toBeDefined(); // kept: reuse detection
    expect(await store.write((tx) => tx.housekeeping.purgeSessions(T0, T0 - DAY, 1))).toBe(1);
    expect(await store.write((tx) => tx.housekeeping.purgeSessions(T0, T0 - DAY, 10))).toBe(1);
    expect(await store.write((tx) => tx.housekeeping.purgeSessions(T0, T0 - DAY, 10))).toBe(0);
    expect(await store.read.sessions.check("live", T0)).toBeDefined();
    await store.write(async (tx) => {
      for (let i = 0; i < 3; i++) await tx.jobs.enqueue(job({ uniqueKey: `j${i}` }));
      for (let i = 0; i < 3; i++) {
        const c = await tx.jobs.claim(["mail"], T0, 10, "w");
        await tx.jobs.transition(c!.id, "w", { to: i === 2 ? "dead" : "done", error: null }, T0 + i);
      }
      await tx.jobs.enqueue(job({ uniqueKey: "pending" }));
      const wh = await tx.webhooks.insert({ url: "https://h", events: [], secret: "s", now: T0 });
      const d = {
        webhookId: wh.id,
        messageId: "m",
        event: "e",
        attempt: 1,
        statusCode: 200,
        ok: true,
        error: null,
        durationMs: 1,
      };
      await tx.webhooks.recordDelivery({ ...d, createdAt: T0 - 10 });
      await tx.webhooks.recordDelivery({ ...d, createdAt: T0 + 10 });
      await tx.audit.insert({
        at: T0 - 10,
        action: "a",
        actorId: null,
        targetType: null,
        targetId: null,
        ip: null,
        detail: null,
      });
      await tx.audit.insert({
        at: T0 + 10,
        action: "b",
        actorId: null,
        targetType: null,
        targetId: null,
        ip: null,
        detail: null,
      });
    });
    expect(await store.write((tx) => tx.housekeeping.purgeJobs(T0 + 2, 10))).toBe(2); // finished before T0+2
    expect(await store.read.jobs.count({})).toBe(2);
    expect(await store.write((tx) => tx.housekeeping.purgeDeliveries(T0, 10))).toBe(1);
    expect(await store.write((tx) => tx.housekeeping.purgeAudit(T0, 10))).toBe(1);
    expect((await store.read.audit.list({}, page())).map((e) => e.action)).toEqual(["b"]);
  });
});

/**
 * The races the services rely on the store to settle. On SQLite units run one at a time; on Postgres they run
 * at once (on several connections, and here on several stores, as several nodes would), and the store must
 * make them behave as if they had run one at a time (src/infra/postgres/store.ts: SERIALIZABLE + retries).
 */
import { expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import type { Store } from "../../src/store/store.ts";
import { describeEngines, recordingHooks } from "./engines.ts";
import { addArticle, addUser, T0 } from "./fixtures.ts";

/** Resolves once `n` parties have arrived; with `enabled` false it never waits (SQLite runs units in turn). */
function barrier(n: number, enabled: boolean) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return async () => {
    if (!enabled) return;
    if (++arrived >= n) open();
    await opened;
  };
}

/** What setFavorite does in its unit. */
const favorite = (store: Store, userId: number, articleId: number) =>
  store.write(async (tx) => {
    if (!(await tx.articles.favorite(userId, articleId))) return;
    const count = await tx.articles.bumpFavorites(articleId, 1);
    await tx.emit({ type: "article.favorited", articleId, slug: "s", userId, favoritesCount: count });
  });

describeEngines("concurrency", (engine, use) => {
  test("40 concurrent favourites by one user count once, with one event", async () => {
    const rec = recordingHooks();
    const store = await use().another({ hooks: rec.hooks, poolSize: 10 });
    const author = await addUser(store, "author");
    const fan = await addUser(store, "fan");
    const article = await addArticle(store, author.id, { slug: "s" });
    await Promise.all(Array.from({ length: 40 }, () => favorite(store, fan.id, article)));
    expect((await store.read.articles.bySlug("s"))?.favoritesCount).toBe(1);
    const events = rec.committed.flat().filter((e) => e.type === "article.favorited");
    expect(events).toHaveLength(1);
    expect((events[0] as Extract<DomainEvent, { favoritesCount: number }>).favoritesCount).toBe(1);
  });

  test("40 users favouriting one article at once from two stores: every one counted", async () => {
    const a = await use().another({ poolSize: 10 });
    const b = await use().another({ poolSize: 10 });
    const author = await addUser(a, "author");
    const article = await addArticle(a, author.id, { slug: "s" });
    const fans = await Promise.all(Array.from({ length: 40 }, (_, i) => addUser(a, `fan${i}`)));
    await Promise.all(fans.map((f, i) => favorite(i % 2 ? a : b, f.id, article)));
    expect((await a.read.articles.bySlug("s"))?.favoritesCount).toBe(40);
    expect(await a.read.articles.count({ favorited: fans[7]!.id })).toBe(1);
  });

  test("two concurrent refreshes of one token: exactly one wins", async () => {
    const a = await use().another();
    const b = await use().another();
    const u = await addUser(a, "u");
    await a.write(async (tx) => {
      await tx.sessions.insert({ id: "s", userId: u.id, expiresAt: T0 + 60_000, now: T0 });
      await tx.sessions.insertRefreshToken({
        sessionId: "s",
        tokenHash: "h",
        expiresAt: T0 + 60_000,
        now: T0,
      });
    });
    for (let round = 0; round < 5; round++) {
      const hash = `h${round}`;
      await a.write((tx) =>
        tx.sessions.insertRefreshToken({ sessionId: "s", tokenHash: hash, expiresAt: T0 + 60_000, now: T0 }),
      );
      const wait = barrier(2, engine.overlappingUnits);
      const rotate = (store: Store) =>
        store.write(async (tx) => {
          await tx.sessions.refreshTokenState(hash); // both read before either claims
          await wait();
          const sid = await tx.sessions.claimRefreshToken(hash, T0 + 1);
          if (sid)
            await tx.sessions.insertRefreshToken({
              sessionId: sid,
              tokenHash: `${hash}-next-${Math.random()}`,
              expiresAt: T0 + 60_000,
              now: T0,
            });
          return sid;
        });
      const results = await Promise.all([rotate(a), rotate(b)]);
      expect(results.filter((r) => r === "s")).toHaveLength(1);
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
    }
  });

  test("job claims from three stores, four loops each, never share a job and miss none", async () => {
    const stores = [await use().another(), await use().another(), await use().another()];
    await stores[0]!.write(async (tx) => {
      for (let i = 0; i < 60; i++) {
        await tx.jobs.enqueue({
          type: "t",
          payload: "{}",
          runAt: T0 + i,
          maxAttempts: 3,
          uniqueKey: null,
          now: T0,
        });
      }
    });
    const claimed: number[] = [];
    await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 4 }, async (_, loop) => {
          for (;;) {
            const job = await store.write((tx) => tx.jobs.claim(["t"], T0 + 1000, 60_000, `w${s}.${loop}`));
            if (!job) return;
            claimed.push(job.id);
          }
        }),
      ),
    );
    expect(claimed).toHaveLength(60);
    expect(new Set(claimed).size).toBe(60);
    expect(await stores[0]!.read.jobs.count({ state: "running" })).toBe(60);
  });

  test("concurrent demotions cannot leave no active admin (the check inside the unit holds)", async () => {
    const a = await use().another();
    const b = await use().another();
    const one = await addUser(a, "one", { role: "admin" });
    const two = await addUser(a, "two", { role: "admin" });
    const demoted = barrier(2, engine.overlappingUnits);
    const counted = barrier(2, engine.overlappingUnits);
    const demote = (store: Store, id: number) =>
      store.write(async (tx) => {
        await tx.users.update(id, { role: "editor", updatedAt: T0 });
        await demoted(); // both demoted before either counts
        const left = await tx.users.countActiveAdmins();
        await counted(); // both counted before either commits: each saw the other's admin still active
        if (left === 0) throw new Error("would leave no active admin");
        return "demoted";
      });
    const results = await Promise.allSettled([demote(a, one.id), demote(b, two.id)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason.message).toBe("would leave no active admin");
    expect(await a.read.users.countActiveAdmins()).toBe(1);
  });
});

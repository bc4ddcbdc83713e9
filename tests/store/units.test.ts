/**
 * The store's unit-of-work contract (src/store/store.ts): atomic units, events emitted inside and handed to
 * the after-commit hook once committed, rollback on throw, engine-neutral errors, probe and close.
 */
import { expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import { UniqueViolation } from "../../src/store/errors.ts";
import type { TransactionHooks } from "../../src/store/store.ts";
import { describeEngines, recordingHooks } from "./engines.ts";
import { addArticle, addUser, page, T0 } from "./fixtures.ts";

const created = (userId: number, username: string): DomainEvent => ({
  type: "user.created",
  userId,
  username,
  email: `${username}@example.com`,
});

describeEngines("units of work", (_engine, use) => {
  test("a unit commits atomically and resolves with its result after the after-commit hook", async () => {
    const rec = recordingHooks();
    const store = await use().another({ hooks: rec.hooks });
    let hookSettled = false;
    const slowCommitted: TransactionHooks = {
      inTransaction: rec.hooks.inTransaction,
      async committed(events) {
        await rec.hooks.committed(events);
        await new Promise((r) => setTimeout(r, 20));
        hookSettled = true;
      },
    };
    const slow = await use().another({ hooks: slowCommitted });
    const user = await slow.write(async (tx) => {
      const u = await tx.users.insert({
        username: "ann",
        email: "ann@x.io",
        passwordHash: "h",
        role: "editor",
        now: T0,
      });
      await tx.emit(created(u.id, "ann"));
      expect(rec.log).toEqual(["in:user.created"]); // in-transaction handlers ran before emit resolved
      return u;
    });
    expect(hookSettled).toBe(true);
    expect(rec.log).toEqual(["in:user.created", "committed:user.created"]);
    expect(rec.committed[0]).toEqual([created(user.id, "ann")]);
    expect((await store.read.users.byId(user.id))?.username).toBe("ann");
  });

  test("a unit that throws changes nothing, emits nothing, and rejects with its own error", async () => {
    const rec = recordingHooks(async (tx, event) => {
      // An in-transaction reaction (an outbox job) rolls back with the unit.
      if (event.type === "user.created") {
        await tx.jobs.enqueue({
          type: "mail",
          payload: "{}",
          runAt: T0,
          maxAttempts: 3,
          uniqueKey: null,
          now: T0,
        });
      }
    });
    const store = await use().another({ hooks: rec.hooks });
    const boom = new Error("refused by the service");
    const attempt = store.write(async (tx) => {
      const u = await tx.users.insert({
        username: "bob",
        email: "bob@x.io",
        passwordHash: "h",
        role: "editor",
        now: T0,
      });
      await tx.emit(created(u.id, "bob"));
      throw boom;
    });
    await expect(attempt).rejects.toBe(boom);
    expect(await store.read.users.byUsername("bob")).toBeUndefined();
    expect(await store.read.jobs.count({})).toBe(0);
    expect(rec.committed).toEqual([]);
    expect(rec.log).toEqual(["in:user.created"]);
  });

  test("events of each unit reach the hook once, in the order emitted", async () => {
    const rec = recordingHooks();
    const store = await use().another({ hooks: rec.hooks });
    const a = await addUser(store, "alice");
    const b = await addUser(store, "bert");
    await store.write(async (tx) => {
      await tx.emit({ type: "follow.changed", followerId: a.id, followeeId: b.id, following: true });
      await tx.profiles.follow(a.id, b.id);
      await tx.emit(created(a.id, "alice"));
    });
    await store.write(async () => {}); // a unit with no events still reaches the hook (empty list)
    expect(rec.committed).toEqual([
      [],
      [],
      [
        { type: "follow.changed", followerId: a.id, followeeId: b.id, following: true },
        created(a.id, "alice"),
      ],
      [],
    ]);
  });

  test("unique violations are engine-neutral and name the index; the unit changed nothing", async () => {
    const { store } = use();
    await addUser(store, "Carol", { email: "carol@example.com" });
    const again = (username: string, email: string) =>
      store.write((tx) => tx.users.insert({ username, email, passwordHash: "h", role: "editor", now: T0 }));
    const byName = await again("CAROL", "other@example.com").catch((e) => e);
    expect(byName).toBeInstanceOf(UniqueViolation);
    expect(byName.constraint).toBe("users_username_lower_uq");
    const byEmail = await again("carol2", "CAROL@example.COM").catch((e) => e);
    expect(byEmail).toBeInstanceOf(UniqueViolation);
    expect(byEmail.constraint).toBe("users_email_lower_uq");
    // lower() folds ASCII only, on both engines: these are different names.
    await addUser(store, "Émile", { email: "e1@example.com" });
    await addUser(store, "émile", { email: "e2@example.com" });
    expect(await store.read.users.count({})).toBe(3);

    const author = (await store.read.users.byUsername("carol"))!;
    await addArticle(store, author.id, { slug: "taken" });
    const slug = await store
      .write(async (tx) => {
        await tx.users.update(author.id, { bio: "changed in the failed unit", updatedAt: T0 + 1 });
        return tx.articles.insert({
          slug: "taken",
          title: "t",
          description: "d",
          body: "b",
          authorId: author.id,
          now: T0,
        });
      })
      .catch((e) => e);
    expect(slug).toBeInstanceOf(UniqueViolation);
    expect(slug.constraint).toBe("articles_slug_uq");
    expect((await store.read.users.byId(author.id))?.bio).toBeNull();

    const token = { sessionId: "s1", tokenHash: "h1", expiresAt: T0 + 1000, now: T0 };
    await store.write((tx) =>
      tx.sessions.insert({ id: "s1", userId: author.id, expiresAt: T0 + 1000, now: T0 }),
    );
    await store.write((tx) => tx.sessions.insertRefreshToken(token));
    const dup = await store.write((tx) => tx.sessions.insertRefreshToken(token)).catch((e) => e);
    expect(dup).toBeInstanceOf(UniqueViolation);
    expect(dup.constraint).toBe("refresh_tokens_hash_uq");
  });

  test("a write inside a unit is refused (it would wait for itself)", async () => {
    const { store } = use();
    // `await`: the inner rejection has its handler at once (a returned promise gets one a tick later).
    const nested = store.write(async () => await store.write(async () => 1));
    await expect(nested).rejects.toThrow("inside a unit of work");
  });

  test("reads see committed data only", async () => {
    const { store } = use();
    let during: unknown = "not read";
    await store.write(async (tx) => {
      await tx.users.insert({
        username: "dora",
        email: "dora@x.io",
        passwordHash: "h",
        role: "editor",
        now: T0,
      });
      // `read` is outside the unit (another connection on both engines): the insert is not committed yet.
      during = await store.read.users.byUsername("dora");
      expect((await tx.users.byUsername("dora"))?.email).toBe("dora@x.io"); // the unit sees its own work
    });
    expect(during).toBeUndefined();
    expect((await store.read.users.byUsername("dora"))?.email).toBe("dora@x.io");
  });

  test("probe reports a healthy store as readable and writable; close refuses new units", async () => {
    const store = await use().another();
    expect(await store.probe()).toEqual({ readable: true, writable: true });
    await addUser(store, "erin");
    await store.close();
    await expect(store.write(async () => 1)).rejects.toThrow("closed");
    expect((await use().store.read.users.list({}, page())).map((u) => u.username)).toEqual(["erin"]);
  });
});

/** The accounts repositories (users, sessions and refresh tokens, audit log) through the Store interface. */
import { expect, test } from "bun:test";
import { describeEngines } from "./engines.ts";
import { addUser, page, T0 } from "./fixtures.ts";

describeEngines("users repository", (_engine, use) => {
  test("lookups by id, email and username fold ASCII case only, like the unique indexes", async () => {
    const { store } = use();
    const ann = await addUser(store, "Ann", { email: "Ann@Example.com", role: "admin" });
    expect(ann).toMatchObject({ username: "Ann", email: "Ann@Example.com", role: "admin", suspended: false });
    expect(ann).toMatchObject({ bio: null, image: null, createdAt: T0, updatedAt: T0, passwordHash: "hash" });
    expect(typeof ann.id).toBe("number");
    expect(await store.read.users.byId(ann.id)).toEqual(ann);
    expect((await store.read.users.byEmail("ANN@example.COM"))?.id).toBe(ann.id);
    expect((await store.read.users.byUsername("aNN"))?.id).toBe(ann.id);
    expect(await store.read.users.byId(ann.id + 1000)).toBeUndefined();
    const zoe = await addUser(store, "Zoë");
    expect(await store.read.users.byUsername("ZOË")).toBeUndefined(); // Ë is not ASCII: not folded
    expect((await store.read.users.byUsername("zoë"))?.id).toBe(zoe.id);
    const holders = await store.read.users.holding("ann", "zoë@example.com");
    expect(holders.map((h) => h.id).sort()).toEqual([ann.id, zoe.id].sort());
    expect(await store.read.users.holding("nobody", "none@example.com")).toEqual([]);
  });

  test("update returns the changed row (null clears), undefined for an unknown user", async () => {
    const { store } = use();
    const bo = await addUser(store, "bo");
    const changed = await store.write((tx) =>
      tx.users.update(bo.id, { bio: "hello", image: "https://i/x.png", role: "viewer", updatedAt: T0 + 5 }),
    );
    expect(changed).toMatchObject({
      id: bo.id,
      bio: "hello",
      image: "https://i/x.png",
      role: "viewer",
      updatedAt: T0 + 5,
    });
    const cleared = await store.write((tx) =>
      tx.users.update(bo.id, { bio: null, suspended: true, updatedAt: T0 + 6 }),
    );
    expect(cleared).toMatchObject({ bio: null, suspended: true, image: "https://i/x.png" });
    expect(
      await store.write((tx) => tx.users.update(bo.id + 99, { bio: "x", updatedAt: T0 })),
    ).toBeUndefined();
  });

  test("list and count: oldest first, literal substring filter, role and suspension filters", async () => {
    const { store } = use();
    const a = await addUser(store, "alpha", { role: "admin" });
    const b = await addUser(store, "beta_1", { email: "b@example.org" });
    const c = await addUser(store, "gamma", { role: "admin" });
    await store.write((tx) => tx.users.update(c.id, { suspended: true, updatedAt: T0 }));
    const names = async (f: Parameters<typeof store.read.users.list>[0], p = page()) =>
      (await store.read.users.list(f, p)).map((u) => u.username);
    expect(await names({})).toEqual(["alpha", "beta_1", "gamma"]);
    expect(await names({}, page(2, 1))).toEqual(["beta_1", "gamma"]);
    expect(await names({ q: "A_1" })).toEqual(["beta_1"]); // "_" is literal, case folded
    expect(await names({ q: "%" })).toEqual([]);
    expect(await names({ q: "EXAMPLE.ORG" })).toEqual(["beta_1"]); // emails match too
    expect(await names({ role: "admin" })).toEqual(["alpha", "gamma"]);
    expect(await names({ role: "admin", suspended: false })).toEqual(["alpha"]);
    expect(await store.read.users.count({})).toBe(3);
    expect(await store.read.users.count({ suspended: true })).toBe(1);
    expect(await store.read.users.count({ q: "a" })).toBe(3);
    expect(await store.read.users.countActiveAdmins()).toBe(1);
    expect([a.id, b.id].every((id) => typeof id === "number")).toBe(true);
  });
});

describeEngines("sessions repository", (_engine, use) => {
  const HOUR = 3_600_000;
  test("check answers for live sessions only: not ended, not expired, user not suspended", async () => {
    const { store } = use();
    const u = await addUser(store, "sam", { role: "viewer" });
    await store.write(async (tx) => {
      await tx.sessions.insert({ id: "s-live", userId: u.id, expiresAt: T0 + HOUR, now: T0 });
      await tx.sessions.insert({ id: "s-old", userId: u.id, expiresAt: T0 + 10, now: T0 });
    });
    const live = { userId: u.id, role: "viewer" as const, emailVerified: false };
    expect(await store.read.sessions.check("s-live", T0 + 1)).toEqual(live);
    expect(await store.read.sessions.check("s-old", T0 + 10)).toBeUndefined(); // expired at its instant
    await store.write((tx) => tx.users.markEmailVerified(u.id, "SAM@example.com", T0 + 1));
    expect(await store.read.sessions.check("s-live", T0 + 1)).toEqual({ ...live, emailVerified: true });
    expect(await store.read.sessions.check("nope", T0)).toBeUndefined();
    await store.write((tx) => tx.users.update(u.id, { suspended: true, updatedAt: T0 }));
    expect(await store.read.sessions.check("s-live", T0 + 1)).toBeUndefined();
  });

  test("end one, or all of a user's but one; ended sessions are reported once", async () => {
    const { store } = use();
    const u = await addUser(store, "tess");
    const other = await addUser(store, "uma");
    await store.write(async (tx) => {
      for (const id of ["t1", "t2", "t3"])
        await tx.sessions.insert({ id, userId: u.id, expiresAt: T0 + HOUR, now: T0 });
      await tx.sessions.insert({ id: "u1", userId: other.id, expiresAt: T0 + HOUR, now: T0 });
    });
    expect(await store.write((tx) => tx.sessions.end({ sid: "t1" }, T0 + 1))).toEqual([
      { id: "t1", userId: u.id },
    ]);
    expect(await store.write((tx) => tx.sessions.end({ sid: "t1" }, T0 + 2))).toEqual([]);
    const ended = await store.write((tx) => tx.sessions.end({ userId: u.id, keep: "t3" }, T0 + 3));
    expect(ended).toEqual([{ id: "t2", userId: u.id }]);
    expect(await store.read.sessions.openIdsOf(u.id)).toEqual(["t3"]);
    const all = await store.write((tx) => tx.sessions.end({ userId: u.id }, T0 + 4));
    expect(all).toEqual([{ id: "t3", userId: u.id }]);
    expect(await store.read.sessions.openIdsOf(u.id)).toEqual([]);
    expect(await store.read.sessions.openIdsOf(other.id)).toEqual(["u1"]);
  });

  test("a refresh token is claimed once, only while unused, unexpired and its session live", async () => {
    const { store } = use();
    const u = await addUser(store, "ray");
    await store.write(async (tx) => {
      await tx.sessions.insert({ id: "r1", userId: u.id, expiresAt: T0 + HOUR, now: T0 });
      await tx.sessions.insertRefreshToken({
        sessionId: "r1",
        tokenHash: "h-a",
        expiresAt: T0 + HOUR,
        now: T0,
      });
      await tx.sessions.insertRefreshToken({ sessionId: "r1", tokenHash: "h-b", expiresAt: T0 + 5, now: T0 });
    });
    expect(await store.write((tx) => tx.sessions.claimRefreshToken("h-a", T0 + 1))).toBe("r1");
    expect(await store.write((tx) => tx.sessions.claimRefreshToken("h-a", T0 + 2))).toBeUndefined();
    expect(await store.write((tx) => tx.sessions.claimRefreshToken("h-b", T0 + 5))).toBeUndefined(); // expired
    expect(await store.read.sessions.refreshTokenState("h-a")).toEqual({
      sessionId: "r1",
      userId: u.id,
      sessionExpiresAt: T0 + HOUR,
      usedAt: T0 + 1,
    });
    expect(await store.read.sessions.refreshTokenState("h-b")).toMatchObject({ usedAt: null });
    expect(await store.read.sessions.refreshTokenState("h-none")).toBeUndefined();
    await store.write(async (tx) => {
      await tx.sessions.insertRefreshToken({
        sessionId: "r1",
        tokenHash: "h-c",
        expiresAt: T0 + HOUR,
        now: T0,
      });
      await tx.sessions.end({ sid: "r1" }, T0 + 3);
    });
    expect(await store.write((tx) => tx.sessions.claimRefreshToken("h-c", T0 + 4))).toBeUndefined(); // session over
  });
});

describeEngines("audit repository", (_engine, use) => {
  test("newest first with the actor's username; filters by action, actor and time (inclusive)", async () => {
    const { store } = use();
    const admin = await addUser(store, "root", { role: "admin" });
    await store.write(async (tx) => {
      const entry = { targetType: "user", targetId: "7", ip: "127.0.0.1", detail: '{"a":1}' };
      await tx.audit.insert({ at: T0, action: "login", actorId: admin.id, ...entry });
      await tx.audit.insert({ at: T0 + 10, action: "login.failed", actorId: null, ...entry, detail: null });
      await tx.audit.insert({ at: T0 + 20, action: "login", actorId: admin.id, ...entry });
    });
    const all = await store.read.audit.list({}, page());
    expect(all.map((e) => [e.action, e.at, e.actor])).toEqual([
      ["login", T0 + 20, "root"],
      ["login.failed", T0 + 10, null],
      ["login", T0, "root"],
    ]);
    expect(all[2]).toMatchObject({ targetType: "user", targetId: "7", ip: "127.0.0.1", detail: '{"a":1}' });
    expect((await store.read.audit.list({ action: "login" }, page(1, 1))).map((e) => e.at)).toEqual([T0]);
    expect(await store.read.audit.count({ action: "login" })).toBe(2);
    expect(await store.read.audit.count({ actorId: admin.id })).toBe(2);
    expect(await store.read.audit.count({ since: T0 + 10, until: T0 + 20 })).toBe(2);
    expect(await store.read.audit.count({ until: T0 + 9 })).toBe(1);
    // A deleted actor leaves the entries, without a name.
    await store.write((tx) => tx.housekeeping.purgeAudit(T0 + 1, 100));
    expect(await store.read.audit.count({})).toBe(2);
  });
});

/**
 * Revocation: a token of an ended session gets 401 on its very next request (the session cache never
 * hides a revocation), and each early end emits `sessions.ended`.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import type { DomainEvent } from "../../src/events.ts";
import {
  count,
  createTestApp,
  registerUser,
  row,
  setRole,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

interface Session {
  token: string;
  refreshToken: string;
}

let t: TestApp;
let user: TestUser;
let ended: Extract<DomainEvent, { type: "sessions.ended" }>[];

beforeEach(async () => {
  t = await createTestApp();
  user = await registerUser(t);
  ended = [];
  t.ctx.events.on({ afterCommit: (e) => void (e.type === "sessions.ended" && ended.push(e)) });
});

async function signIn(u = user): Promise<Session> {
  const res = await t.request("POST", "/api/users/login", {
    body: { user: { email: u.email, password: u.password } },
  });
  expect(res.status).toBe(200);
  return res.body.user;
}
/** Warm the session cache, so a passing test proves the cache entry was dropped. */
async function works(s: Session) {
  const res = await t.request("GET", "/api/user", { token: s.token });
  expect(res.status).toBe(200);
}
async function refused(s: Session) {
  expect((await t.request("GET", "/api/user", { token: s.token })).status).toBe(401);
  const bio = (await row<{ bio: string | null }>(t, "select bio from users where id = ?", user.id))!.bio;
  expect(
    (await t.request("PUT", "/api/user", { token: s.token, body: { user: { bio: "after" } } })).status,
  ).toBe(401);
  expect((await row<{ bio: string | null }>(t, "select bio from users where id = ?", user.id))!.bio).toBe(
    bio,
  );
  const refresh = await t.request("POST", "/api/users/refresh", { body: { refreshToken: s.refreshToken } });
  expect(refresh.status).toBe(401);
}

describe("revocation", () => {
  test("logout ends this session only; its access and refresh tokens die at once", async () => {
    const [a, b] = [await signIn(), await signIn()];
    await works(a);
    await works(b);
    const res = await t.request("POST", "/api/users/logout", { token: a.token });
    expect(res.status).toBe(204);
    await refused(a);
    await works(b);
    expect(ended).toEqual([
      { type: "sessions.ended", userId: user.id, sessionIds: [expect.any(String)], reason: "logout" },
    ]);
  });

  test("logout-all ends every session of the account, and only that account", async () => {
    const other = await registerUser(t);
    const [a, b, o] = [await signIn(), await signIn(), await signIn(other)];
    for (const s of [a, b, o]) await works(s);
    expect((await t.request("POST", "/api/users/logout-all", { token: a.token })).status).toBe(204);
    await refused(a);
    await refused(b);
    await works(o);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.sessionIds).toHaveLength(3); // registration's session too
    expect(await count(t, "sessions where user_id = ? and revoked_at is null", user.id)).toBe(0);
  });

  test("a password change ends every other session; the one that made it keeps working", async () => {
    const [a, b] = [await signIn(), await signIn()];
    await works(b);
    const res = await t.request("PUT", "/api/user", {
      token: a.token,
      body: { user: { password: "a-new-password" } },
    });
    expect(res.status).toBe(200);
    await refused(b);
    await works(a);
    expect(ended.at(-1)).toMatchObject({ reason: "password-change", userId: user.id });
    expect(ended.at(-1)!.sessionIds).toHaveLength(2);
  });

  test("suspension ends every session at once, refuses login, and reinstating allows login again", async () => {
    const admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
    const a = await signIn();
    await works(a);
    const res = await t.request("PATCH", `/api/admin/users/${user.username}`, {
      token: admin.token,
      body: { suspended: true },
    });
    expect(res.status).toBe(200);
    await refused(a);
    const login = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
    });
    expect(login.status).toBe(401);
    expect(ended.at(-1)).toMatchObject({ reason: "suspended", userId: user.id });
    await t.request("PATCH", `/api/admin/users/${user.username}`, {
      token: admin.token,
      body: { suspended: false },
    });
    await works(await signIn());
    await refused(a); // reinstating does not bring old sessions back
  });

  test("a role change applies on the very next request despite the cache", async () => {
    const admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
    const a = await signIn();
    const create = () =>
      t.request("POST", "/api/articles", {
        token: a.token,
        body: { article: { title: `T ${Math.random()}`, description: "d", body: "b" } },
      });
    expect((await create()).status).toBe(201);
    await t.request("PATCH", `/api/admin/users/${user.username}`, {
      token: admin.token,
      body: { role: "viewer" },
    });
    const before = await count(t, "articles");
    expect((await create()).status).toBe(403);
    expect(await count(t, "articles")).toBe(before);
  });
});

/** POST /api/users/refresh, /logout and /logout-all: the happy paths and their validation. */
import { beforeAll, describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, registerUser, type TestApp, type TestUser } from "../helpers/app.ts";

let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  user = await registerUser(t);
});

const login = async () =>
  (
    await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
    })
  ).body.user;

describe("login and registration", () => {
  test("both return an opaque refreshToken; GET /api/user does not", async () => {
    const session = await login();
    expect(session.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    const me = await t.request("GET", "/api/user", { token: session.token });
    expect(me.body.user.refreshToken).toBeUndefined();
  });

  test("each login is a new session", async () => {
    const before = await count(t, "sessions where user_id = ?", user.id);
    await login();
    expect(await count(t, "sessions where user_id = ?", user.id)).toBe(before + 1);
  });
});

describe("POST /api/users/refresh", () => {
  test("200 with the user, a new working token and a new refreshToken, in the same session", async () => {
    const session = await login();
    const sessions = await count(t, "sessions");
    const res = await t.request("POST", "/api/users/refresh", {
      body: { refreshToken: session.refreshToken },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({
      email: user.email,
      username: user.username,
      bio: null,
      image: null,
    });
    expect(res.body.user.token).not.toBe(session.token);
    expect(res.body.user.refreshToken).not.toBe(session.refreshToken);
    expect((await t.request("GET", "/api/user", { token: res.body.user.token })).status).toBe(200);
    expect((await t.request("GET", "/api/user", { token: session.token })).status).toBe(200); // old access token lives on until exp
    expect(await count(t, "sessions")).toBe(sessions);
  });

  test.each([
    ["unknown token", { refreshToken: `rt_${"A".repeat(43)}` }, 401, envelope("refreshToken", "is invalid")],
    ["malformed token", { refreshToken: "hello" }, 401, envelope("refreshToken", "is invalid")],
    ["missing token", {}, 422, envelope("refreshToken", "can't be blank")],
    ["empty token", { refreshToken: "" }, 422, envelope("refreshToken", "can't be blank")],
  ])("%s → %d", async (_name, body, status, expected) => {
    const res = await t.request("POST", "/api/users/refresh", { body });
    expect(res.status).toBe(status);
    expect(res.body).toEqual(expected);
  });
});

describe("logout", () => {
  test("logout needs a token", async () => {
    const res = await t.request("POST", "/api/users/logout");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
  });

  test("logout is 204 and ends exactly one session", async () => {
    const session = await login();
    const live = await count(t, "sessions where user_id = ? and revoked_at is null", user.id);
    const res = await t.request("POST", "/api/users/logout", { token: session.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(await count(t, "sessions where user_id = ? and revoked_at is null", user.id)).toBe(live - 1);
    expect((await t.request("POST", "/api/users/logout", { token: session.token })).status).toBe(401);
  });

  test("logout-all is 204, ends every session and is audited", async () => {
    const session = await login();
    await login();
    const res = await t.request("POST", "/api/users/logout-all", { token: session.token });
    expect(res.status).toBe(204);
    expect(await count(t, "sessions where user_id = ? and revoked_at is null", user.id)).toBe(0);
    expect(await count(t, "audit_log where action = 'user.logout_all' and actor_id = ?", user.id)).toBe(1);
  });
});

/** The `exp` claim of an access token, epoch seconds. */
const expOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).exp as number;

describe("token lifetime and the session", () => {
  test("with the defaults, a front end that never refreshes stays signed in for a week (and a month)", async () => {
    const d = await createTestApp();
    const u = await registerUser(d);
    const start = d.clock.now();
    for (const days of [1, 7, 29]) {
      d.clock.advance(days * 86_400_000 - (d.clock.now() - start));
      const me = await d.request("GET", "/api/user", { token: u.token });
      expect({ days, status: me.status }).toEqual({ days, status: 200 });
    }
    // Revocation does not wait for the token to expire: logout ends it on the very next request.
    expect((await d.request("POST", "/api/users/logout", { token: u.token })).status).toBe(204);
    const after = await d.request("GET", "/api/user", { token: u.token });
    expect(after.status).toBe(401);
    expect(after.body).toEqual(envelope("token", "is invalid"));
  });

  test("no token outlives its session: exp is capped at the session's end, then it has expired", async () => {
    const d = await createTestApp({ SESSION_TTL_SECONDS: "1000", REFRESH_TTL_SECONDS: "900" });
    const u = await registerUser(d);
    const session = (await d.db.get<{ expires_at: number }>(
      "select expires_at from sessions where user_id = ?",
      u.id,
    ))!;
    expect(expOf(u.token)).toBe(Math.floor(session.expires_at / 1000));
    // A refresh half-way through issues a token that still ends with the session, not 30 days later.
    d.clock.advance(500_000);
    const login = await d.request("POST", "/api/users/login", {
      body: { user: { email: u.email, password: u.password } },
    });
    const refreshed = await d.request("POST", "/api/users/refresh", {
      body: { refreshToken: login.body.user.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const second = (await d.db.get<{ expires_at: number }>(
      "select expires_at from sessions where user_id = ? order by expires_at desc limit 1",
      u.id,
    ))!;
    expect(expOf(refreshed.body.user.token)).toBe(Math.floor(second.expires_at / 1000));
    d.clock.advance(501_000);
    const res = await d.request("GET", "/api/user", { token: u.token });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "has expired"));
  });
});

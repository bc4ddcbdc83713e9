/** Registration, login, the current user and its updates (RealWorld §3.1–3.4). */
import { beforeAll, describe, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import {
  count,
  createTestApp,
  envelope,
  login,
  registerUser,
  row,
  type TestApp,
  unique,
} from "../helpers/app.ts";

const userRow = (t: TestApp, id: number) =>
  row<{ username: string; email: string; bio: string | null; image: string | null; password_hash: string }>(
    t,
    "select username, email, bio, image, password_hash from users where id = ?",
    id,
  );

describe("POST /api/users (register)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("201 with the user, a working token, null bio and image; the password is stored hashed", async () => {
    const username = unique("Reg");
    const email = `${username}@example.com`;
    const res = await t.request("POST", "/api/users", {
      body: { user: { username, email, password: "password-123" } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: {
        email,
        token: expect.any(String),
        username,
        bio: null,
        image: null,
        emailVerified: false,
        refreshToken: expect.stringMatching(/^rt_/),
      },
    });
    expect(res.body.user.token.length).toBeGreaterThan(20);
    const me = await t.request("GET", "/api/user", { token: res.body.user.token });
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(username);
    const stored = await row<{ password_hash: string }>(
      t,
      "select password_hash from users where username = ?",
      username,
    );
    expect(stored!.password_hash).toStartWith("$argon2id$");
    expect(stored!.password_hash).not.toContain("password-123");
  });

  test.each(["username", "email", "password"])("422 %s can't be blank, nothing created", async (field) => {
    const before = await count(t, "users");
    const user = { username: unique("b"), email: `${unique("b")}@example.com`, password: "password-123" };
    const res = await t.request("POST", "/api/users", { body: { user: { ...user, [field]: "" } } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope(field, "can't be blank"));
    expect(await count(t, "users")).toBe(before);
  });

  test("422 lists every missing field", async () => {
    const res = await t.request("POST", "/api/users", { body: { user: {} } });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      errors: { username: ["can't be blank"], email: ["can't be blank"], password: ["can't be blank"] },
    });
  });

  test("422 password shorter than 8 characters; 64 characters accepted", async () => {
    const short = await t.request("POST", "/api/users", {
      body: { user: { username: unique("s"), email: `${unique("s")}@example.com`, password: "1234567" } },
    });
    expect(short.status).toBe(422);
    expect(short.body).toEqual(envelope("password", "is too short (minimum is 8 characters)"));
    const long = await t.request("POST", "/api/users", {
      body: {
        user: { username: unique("l"), email: `${unique("l")}@example.com`, password: "p".repeat(64) },
      },
    });
    expect(long.status).toBe(201);
  });

  test("422 for an email that is not an email", async () => {
    const before = await count(t, "users");
    const res = await t.request("POST", "/api/users", {
      body: { user: { username: unique("e"), email: "not-an-email", password: "password-123" } },
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(["email"]);
    expect(await count(t, "users")).toBe(before);
  });

  test("usernames with underscores and a long uid are accepted", async () => {
    const username = `art_${Date.now()}a1b2`;
    const res = await t.request("POST", "/api/users", {
      body: { user: { username, email: `${username}@example.com`, password: "password-123" } },
    });
    expect(res.status).toBe(201);
    expect(res.body.user.username).toBe(username);
  });

  test("409 username taken, regardless of case; nothing created", async () => {
    const first = await registerUser(t, { username: unique("Case") });
    const before = await count(t, "users");
    const res = await t.request("POST", "/api/users", {
      body: {
        user: {
          username: first.username.toUpperCase(),
          email: `${unique("other")}@example.com`,
          password: "password-123",
        },
      },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(envelope("username", "has already been taken"));
    expect(await count(t, "users")).toBe(before);
  });

  test("409 email taken, regardless of case; nothing created", async () => {
    const first = await registerUser(t);
    const before = await count(t, "users");
    const res = await t.request("POST", "/api/users", {
      body: { user: { username: unique("o"), email: first.email.toUpperCase(), password: "password-123" } },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(envelope("email", "has already been taken"));
    expect(await count(t, "users")).toBe(before);
  });

  test("409 names both fields when both are taken", async () => {
    const first = await registerUser(t);
    const res = await t.request("POST", "/api/users", {
      body: { user: { username: first.username, email: first.email, password: "password-123" } },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      errors: { username: ["has already been taken"], email: ["has already been taken"] },
    });
  });
});

describe("POST /api/users/login", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("200 with the user and a new token that works", async () => {
    const u = await registerUser(t);
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: u.email, password: u.password } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        email: u.email,
        token: expect.any(String),
        username: u.username,
        bio: null,
        image: null,
        emailVerified: false,
        refreshToken: expect.stringMatching(/^rt_/),
      },
    });
    expect(res.body.user.token).not.toBe(u.token);
    const me = await t.request("GET", "/api/user", { token: res.body.user.token });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(u.email);
  });

  test("the email is matched regardless of case", async () => {
    const u = await registerUser(t);
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: u.email.toUpperCase(), password: u.password } },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(u.username);
  });

  test("unknown email and wrong password answer identically: 401 credentials invalid", async () => {
    const u = await registerUser(t);
    const wrong = await t.request("POST", "/api/users/login", {
      body: { user: { email: u.email, password: "wrong-password" } },
    });
    const unknown = await t.request("POST", "/api/users/login", {
      body: { user: { email: `${unique("nobody")}@example.com`, password: "wrong-password" } },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(envelope("credentials", "invalid"));
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.text).toBe(wrong.text);
    expect([...unknown.headers.keys()].sort()).toEqual([...wrong.headers.keys()].sort());
    expect(await count(t, "sessions where user_id = ?", u.id)).toBe(1); // only the registration's
  });

  test.each(["email", "password"])("422 %s can't be blank", async (field) => {
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: "a@example.com", password: "password-123", [field]: "" } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope(field, "can't be blank"));
  });

  test("a suspended account cannot log in and its tokens stop working", async () => {
    const u = await registerUser(t);
    await t.db.run("update users set suspended = true where id = ?", u.id);
    t.ctx.sessions.cache.clear();
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: u.email, password: u.password } },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("credentials", "invalid"));
    const me = await t.request("GET", "/api/user", { token: u.token });
    expect(me.status).toBe(401);
    expect(me.body).toEqual(envelope("token", "is invalid"));
  });
});

describe("GET /api/user", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("200 with the current user, echoing a working token", async () => {
    const u = await registerUser(t);
    const res = await t.request("GET", "/api/user", { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        email: u.email,
        token: u.token,
        username: u.username,
        bio: null,
        image: null,
        emailVerified: false,
      },
    });
  });

  test("Bearer is accepted as well as Token", async () => {
    const u = await registerUser(t);
    const res = await t.request("GET", "/api/user", { headers: { authorization: `Bearer ${u.token}` } });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(u.username);
  });

  test("401 is missing without a token, is invalid with a bad one", async () => {
    const missing = await t.request("GET", "/api/user");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual(envelope("token", "is missing"));
    const bad = await t.request("GET", "/api/user", { token: "abc.def.ghi" });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual(envelope("token", "is invalid"));
    expect(missing.headers.get("www-authenticate")).toBe('Token realm="quire", Bearer realm="quire"');
    expect(bad.headers.get("www-authenticate")).toBe(
      'Token realm="quire", error="invalid_token", error_description="the access token is invalid", ' +
        'Bearer realm="quire", error="invalid_token", error_description="the access token is invalid"',
    );
  });

  test("401 has expired once the token has (JWT_TTL_SECONDS), with an invalid_token challenge", async () => {
    const u = await registerUser(t);
    expect((await t.request("GET", "/api/user", { token: u.token })).status).toBe(200);
    t.clock.advance((t.ctx.config.JWT_TTL_SECONDS + 5) * 1000);
    const res = await t.request("GET", "/api/user", { token: u.token });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "has expired"));
    expect(res.headers.get("www-authenticate")).toContain(
      'Bearer realm="quire", error="invalid_token", error_description="the access token has expired"',
    );
  });
});

describe("PUT /api/user", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("updates bio and image; the answer and the database agree", async () => {
    const u = await registerUser(t);
    const res = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { bio: "I write", image: "https://example.com/me.png" } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        email: u.email,
        token: expect.any(String),
        username: u.username,
        bio: "I write",
        image: "https://example.com/me.png",
        emailVerified: false,
      },
    });
    expect((await t.request("GET", "/api/user", { token: res.body.user.token })).status).toBe(200);
    expect(await userRow(t, u.id)).toMatchObject({ bio: "I write", image: "https://example.com/me.png" });
  });

  test('bio and image "" become null, and null is accepted', async () => {
    const u = await registerUser(t);
    await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { bio: "x", image: "https://example.com/x.png" } },
    });
    const blank = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { bio: "", image: "" } },
    });
    expect(blank.status).toBe(200);
    expect(blank.body.user.bio).toBeNull();
    expect(blank.body.user.image).toBeNull();
    expect(await userRow(t, u.id)).toMatchObject({ bio: null, image: null });

    await t.request("PUT", "/api/user", { token: u.token, body: { user: { bio: "again" } } });
    const nulls = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { bio: null, image: null } },
    });
    expect(nulls.status).toBe(200);
    expect(nulls.body.user).toMatchObject({ bio: null, image: null });
    expect((await userRow(t, u.id))!.bio).toBeNull();
  });

  test("changes username and email; the token still works and the new email logs in", async () => {
    const u = await registerUser(t);
    const username = unique("renamed");
    const email = `${username}@example.org`;
    const res = await t.request("PUT", "/api/user", { token: u.token, body: { user: { username, email } } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username, email });
    expect(await userRow(t, u.id)).toMatchObject({ username, email });
    const me = await t.request("GET", "/api/user", { token: res.body.user.token });
    expect(me.body.user).toMatchObject({ username, email });
    const profile = await t.request("GET", `/api/profiles/${username}`);
    expect(profile.status).toBe(200);
    expect(await login(t, email, u.password)).toEqual(expect.any(String));
  });

  test("changing only the case of one's own username is allowed", async () => {
    const u = await registerUser(t, { username: unique("lower") });
    const res = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { username: u.username.toUpperCase() } },
    });
    expect(res.status).toBe(200);
    expect((await userRow(t, u.id))!.username).toBe(u.username.toUpperCase());
  });

  test("an empty update changes nothing", async () => {
    const u = await registerUser(t);
    const before = await userRow(t, u.id);
    const res = await t.request("PUT", "/api/user", { token: u.token, body: { user: {} } });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: u.username, email: u.email });
    expect(await userRow(t, u.id)).toEqual(before);
  });

  test.each([
    ["email", ""],
    ["email", null],
    ["username", ""],
    ["username", null],
    ["password", ""],
    ["password", null],
    ["password", "short"],
  ])("422 for %s = %p, and the user is unchanged", async (field, value) => {
    const u = await registerUser(t);
    const before = await userRow(t, u.id);
    const res = await t.request("PUT", "/api/user", { token: u.token, body: { user: { [field]: value } } });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual([field]);
    expect(res.body.errors[field]).toEqual([expect.any(String)]);
    expect(await userRow(t, u.id)).toEqual(before);
    expect(await login(t, u.email, u.password)).toEqual(expect.any(String));
  });

  test("422 for an image that is not an http(s) URL, unchanged", async () => {
    const u = await registerUser(t);
    const res = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { image: "javascript:alert(1)", bio: "should not land" } },
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("image", "must be an http(s) URL"));
    expect(await userRow(t, u.id)).toMatchObject({ image: null, bio: null });
  });

  test("409 when taking another user's username or email (any case); unchanged", async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const before = await userRow(t, b.id);
    const byName = await t.request("PUT", "/api/user", {
      token: b.token,
      body: { user: { username: a.username.toUpperCase() } },
    });
    expect(byName.status).toBe(409);
    expect(byName.body).toEqual(envelope("username", "has already been taken"));
    const byEmail = await t.request("PUT", "/api/user", {
      token: b.token,
      body: { user: { email: a.email.toUpperCase(), bio: "nope" } },
    });
    expect(byEmail.status).toBe(409);
    expect(byEmail.body).toEqual(envelope("email", "has already been taken"));
    expect(await userRow(t, b.id)).toEqual(before);
  });

  test("a password change keeps this token working and ends every other session", async () => {
    const u = await registerUser(t);
    const other = await login(t, u.email, u.password);
    // Use the other session first so it sits in the session cache: the change must still end it.
    expect((await t.request("GET", "/api/user", { token: other })).status).toBe(200);

    const res = await t.request("PUT", "/api/user", {
      token: u.token,
      body: { user: { password: "a-brand-new-password" } },
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain("a-brand-new-password");

    const same = await t.request("GET", "/api/user", { token: u.token });
    expect(same.status).toBe(200);
    const ended = await t.request("GET", "/api/user", { token: other });
    expect(ended.status).toBe(401);
    expect(ended.body).toEqual(envelope("token", "is invalid"));

    const old = await t.request("POST", "/api/users/login", {
      body: { user: { email: u.email, password: u.password } },
    });
    expect(old.status).toBe(401);
    expect(await login(t, u.email, "a-brand-new-password")).toEqual(expect.any(String));
  });

  test("401 without a token, and nothing changes", async () => {
    const u = await registerUser(t);
    const before = await userRow(t, u.id);
    const res = await t.request("PUT", "/api/user", { body: { user: { bio: "x" } } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("token", "is missing"));
    expect(await userRow(t, u.id)).toEqual(before);
  });
});

describe("typed client (Eden Treaty, in-process)", () => {
  let t: TestApp;
  let api: ReturnType<typeof treaty<TestApp["app"]>>;
  beforeAll(async () => {
    t = await createTestApp();
    api = treaty(t.app);
  });

  test("register, read and update the current user through the typed routes", async () => {
    const username = unique("eden");
    const email = `${username}@example.com`;
    const reg = await api.api.users.post({ user: { username, email, password: "password-123" } });
    expect(reg.status).toBe(201);
    expect(reg.error).toBeNull();
    const token = reg.data!.user.token;
    expect(reg.data!.user).toEqual({
      email,
      token,
      username,
      bio: null,
      image: null,
      emailVerified: false,
      refreshToken: expect.any(String),
    });

    const headers = { authorization: `Token ${token}` };
    const me = await api.api.user.get({ headers });
    expect(me.status).toBe(200);
    expect(me.data!.user.username).toBe(username);

    const upd = await api.api.user.put({ user: { bio: "typed" } }, { headers });
    expect(upd.status).toBe(200);
    expect(upd.data!.user.bio).toBe("typed");
  });

  test("errors arrive typed with their status and the envelope", async () => {
    const missing = await api.api.user.get();
    expect(missing.data).toBeNull();
    expect(missing.error!.status).toBe(401);
    expect(missing.error!.value).toEqual(envelope("token", "is missing"));

    const u = await registerUser(t);
    const wrong = await api.api.users.login.post({ user: { email: u.email, password: "not-the-password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.error!.value).toEqual(envelope("credentials", "invalid"));

    const blank = await api.api.users.post({
      user: { username: "", email: u.email, password: "password-123" },
    });
    expect(blank.status).toBe(422);
    expect(blank.error!.value).toEqual(envelope("username", "can't be blank"));
  });
});

/**
 * Forged and misused access tokens: every case answers 401 on a write and the write does not happen.
 * Tokens are forged with jose using the server's real secret unless the case is about the secret itself.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import {
  createTestApp,
  envelope,
  login,
  registerUser,
  row,
  TEST_SECRET,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";

const key = new TextEncoder().encode(TEST_SECRET);
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

let t: TestApp;
let user: TestUser;
let sid: string;
let claims: Record<string, unknown>;

beforeAll(async () => {
  t = await createTestApp();
  user = await registerUser(t);
  const [, payload] = user.token.split(".");
  claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
  sid = claims.sid as string;
});

/** Sign `payload` with the given algorithm and key (defaults: HS256, the real secret, valid claims). */
async function forge(payload: Record<string, unknown>, alg = "HS256", secret = key) {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(secret);
}
const now = () => Math.floor(t.clock.now() / 1000);
const valid = () => ({
  sub: String(user.id),
  sid,
  typ: "access",
  iss: "quire",
  aud: "quire-api",
  iat: now(),
  exp: now() + 600,
});

/** Try to change the bio with `token`: expect 401 (with its RFC 6750 challenge) and the bio untouched. */
async function refusedWrite(token: string, message: "is invalid" | "has expired" = "is invalid") {
  const res = await t.request("PUT", "/api/user", { token, body: { user: { bio: "pwned" } } });
  expect(res.status).toBe(401);
  expect(res.body).toEqual(envelope("token", message));
  expect(res.headers.get("www-authenticate")).toContain(
    `Token realm="quire", error="invalid_token", error_description="the access token ${message}"`,
  );
  expect(
    (await row<{ bio: string | null }>(t, "select bio from users where id = ?", user.id))!.bio,
  ).toBeNull();
}

describe("access-token attacks", () => {
  test("control: a correctly forged HS256 token with the real secret is accepted", async () => {
    const res = await t.request("GET", "/api/user", { token: await forge(valid()) });
    expect(res.status).toBe(200);
  });

  test("alg: none (unsigned) is refused", async () => {
    await refusedWrite(`${b64({ alg: "none", typ: "JWT" })}.${b64(valid())}.`);
    await refusedWrite(`${b64({ alg: "none", typ: "JWT" })}.${b64(valid())}`);
  });

  test.each(["HS384", "HS512"])("%s signed with the real secret is refused", async (alg) => {
    await refusedWrite(await forge(valid(), alg));
  });

  test("tampered payload (sub changed, signature kept) is refused", async () => {
    const other = await registerUser(t);
    const [h, , s] = user.token.split(".");
    await refusedWrite(`${h}.${b64({ ...claims, sub: String(other.id) })}.${s}`);
  });

  test("a token signed with another secret is refused", async () => {
    await refusedWrite(await forge(valid(), "HS256", new TextEncoder().encode("x".repeat(40))));
  });

  test("expired token is refused as such (the server's own token, after JWT_TTL_SECONDS)", async () => {
    const fresh = await login(t, user.email, user.password);
    const ttlMs = (t.ctx.config.JWT_TTL_SECONDS + 1) * 1000;
    t.clock.advance(ttlMs);
    try {
      await refusedWrite(fresh, "has expired");
      await refusedWrite(await forge({ ...valid(), exp: now() - 1 }), "has expired");
      // Only a token this server signed is said to have expired: a forged one is just invalid.
      const forged = await forge(
        { ...valid(), exp: now() - 1 },
        "HS256",
        new TextEncoder().encode("y".repeat(40)),
      );
      await refusedWrite(forged, "is invalid");
    } finally {
      t.clock.advance(-ttlMs);
    }
  });

  test.each([
    ["missing exp", { exp: undefined }],
    ["missing sid", { sid: undefined }],
    ["missing sub", { sub: undefined }],
    ["wrong iss", { iss: "evil" }],
    ["wrong aud", { aud: "other-api" }],
    ["missing typ", { typ: undefined }],
    ["typ refresh", { typ: "refresh" }],
    ["sid of another user's session", { sub: "999999" }],
    ["unknown session id", { sid: "not-a-session" }],
  ])("%s is refused", async (_name, change) => {
    const payload: Record<string, unknown> = { ...valid(), ...change };
    for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
    await refusedWrite(await forge(payload));
  });

  test("a refresh token used as an access token is refused", async () => {
    const res = await t.request("POST", "/api/users/login", {
      body: { user: { email: user.email, password: user.password } },
    });
    expect(res.body.user.refreshToken).toStartWith("rt_");
    await refusedWrite(res.body.user.refreshToken);
  });

  test("an access token presented to /refresh is refused and ends nothing", async () => {
    const token = await login(t, user.email, user.password);
    const res = await t.request("POST", "/api/users/refresh", { body: { refreshToken: token } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(envelope("refreshToken", "is invalid"));
    expect((await t.request("GET", "/api/user", { token })).status).toBe(200);
  });

  test("malformed Authorization headers are 401, never 500", async () => {
    for (const header of [
      "Token",
      "Token a b",
      "Basic dXNlcjpwYXNz",
      `Token ${"a".repeat(5000)}`,
      "Token ..",
    ]) {
      const res = await t.request("PUT", "/api/user", {
        headers: { authorization: header },
        body: { user: { bio: "x" } },
      });
      expect(res.status).toBe(401);
    }
    expect(
      (await row<{ bio: string | null }>(t, "select bio from users where id = ?", user.id))!.bio,
    ).toBeNull();
  });
});

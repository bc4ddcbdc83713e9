/**
 * Rate limits over HTTP: brute-force login ends in 429 (envelope, Retry-After, IETF headers) and spoofing
 * X-Forwarded-For does not reset it; proxies are believed only when configured; IPv6 is grouped by /64.
 */
import { describe, expect, test } from "bun:test";
import { count, registerUser } from "../helpers/app.ts";
import { createPeerTestApp, type PeerTestApp } from "./helpers.ts";

const on = { RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "5" };
const badLogin = (
  t: PeerTestApp,
  email: string,
  options: { peer?: string; headers?: Record<string, string> },
) =>
  t.request("POST", "/api/users/login", {
    ...options,
    body: { user: { email, password: "wrong-password" } },
  });

describe("brute-force login", () => {
  test("the 6th attempt in a minute is 429 with Retry-After and RateLimit headers, and is not even tried", async () => {
    const t = await createPeerTestApp(on);
    const victim = await registerUser(t);
    for (let i = 0; i < 5; i++)
      expect((await badLogin(t, victim.email, { peer: "203.0.113.7" })).status).toBe(401);
    const failedBefore = await count(t, "audit_log where action = 'user.login_failed'");
    const res = await badLogin(t, victim.email, { peer: "203.0.113.7" });
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ errors: { rate: ["limit exceeded, retry in 12 seconds"] } });
    expect(res.headers.get("retry-after")).toBe("12");
    expect(res.headers.get("ratelimit-policy")).toBe('"ip";q=600;w=60, "login";q=5;w=60');
    expect(res.headers.get("ratelimit")).toBe('"ip";r=594;t=1, "login";r=0;t=12');
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await count(t, "audit_log where action = 'user.login_failed'")).toBe(failedBefore);
    // Even the right password is refused while limited: guessing stops here.
    const right = await t.request("POST", "/api/users/login", {
      peer: "203.0.113.7",
      body: { user: { email: victim.email, password: victim.password } },
    });
    expect(right.status).toBe(429);
  });

  test("a spoofed X-Forwarded-For does not reset the limit when no proxy is trusted", async () => {
    const t = await createPeerTestApp(on);
    for (let i = 0; i < 5; i++) await badLogin(t, "x@example.com", { peer: "203.0.113.7" });
    for (const xff of ["198.51.100.1", "198.51.100.2, 198.51.100.3", "2001:db8::1"]) {
      const res = await badLogin(t, "x@example.com", {
        peer: "203.0.113.7",
        headers: { "x-forwarded-for": xff },
      });
      expect(res.status).toBe(429);
    }
    // Another client is unaffected.
    expect((await badLogin(t, "x@example.com", { peer: "203.0.113.8" })).status).toBe(401);
  });

  test("behind a trusted proxy, the right-most untrusted address is the client; spoofed entries left of it are ignored", async () => {
    const t = await createPeerTestApp({ ...on, TRUSTED_PROXIES: "10.0.0.0/8" });
    const viaProxy = (xff: string) =>
      badLogin(t, "x@example.com", { peer: "10.0.0.2", headers: { "x-forwarded-for": xff } });
    for (let i = 0; i < 5; i++) expect((await viaProxy("203.0.113.7")).status).toBe(401);
    expect((await viaProxy("203.0.113.7")).status).toBe(429);
    expect((await viaProxy("1.2.3.4, 203.0.113.7")).status).toBe(429);
    expect((await viaProxy("5.6.7.8, 203.0.113.7, 10.0.0.9")).status).toBe(429);
    // A different real client behind the same proxy has its own bucket.
    expect((await viaProxy("203.0.113.99")).status).toBe(401);
  });

  test("an untrusted peer cannot borrow a trusted proxy's voice", async () => {
    const t = await createPeerTestApp({ ...on, TRUSTED_PROXIES: "10.0.0.0/8" });
    for (let i = 0; i < 5; i++)
      await badLogin(t, "x@example.com", {
        peer: "203.0.113.7",
        headers: { "x-forwarded-for": `198.51.100.${i}` },
      });
    expect(
      (
        await badLogin(t, "x@example.com", {
          peer: "203.0.113.7",
          headers: { "x-forwarded-for": "198.51.100.200" },
        })
      ).status,
    ).toBe(429);
  });

  test("IPv6 clients share a bucket per /64: rotating the interface id does not reset it", async () => {
    const t = await createPeerTestApp(on);
    for (let i = 1; i <= 5; i++)
      expect((await badLogin(t, "x@example.com", { peer: `2001:db8:1:2::${i}` })).status).toBe(401);
    expect((await badLogin(t, "x@example.com", { peer: "2001:db8:1:2:ffff:ffff:ffff:ffff" })).status).toBe(
      429,
    );
    expect((await badLogin(t, "x@example.com", { peer: "2001:db8:1:3::1" })).status).toBe(401);
  });

  test("after Retry-After seconds the client may try again", async () => {
    const t = await createPeerTestApp(on);
    for (let i = 0; i < 5; i++) await badLogin(t, "x@example.com", { peer: "203.0.113.7" });
    const limited = await badLogin(t, "x@example.com", { peer: "203.0.113.7" });
    t.clock.advance(Number(limited.headers.get("retry-after")) * 1000);
    expect((await badLogin(t, "x@example.com", { peer: "203.0.113.7" })).status).toBe(401);
  });
  test("a one-second wait is said in the singular", async () => {
    const t = await createPeerTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "60" });
    for (let i = 0; i < 60; i++) await badLogin(t, "x@example.com", { peer: "203.0.113.8" });
    const res = await badLogin(t, "x@example.com", { peer: "203.0.113.8" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.body).toEqual({ errors: { rate: ["limit exceeded, retry in 1 second"] } });
  });
});

describe("general limits", () => {
  test("every response reports the IP policy; authenticated ones the user policy too", async () => {
    const t = await createPeerTestApp({ RATE_LIMIT_ENABLED: "true" });
    const user = await registerUser(t);
    const anon = await t.request("GET", "/api/tags", { peer: "192.0.2.1" });
    expect(anon.headers.get("ratelimit-policy")).toBe('"ip";q=600;w=60');
    expect(anon.headers.get("ratelimit")).toBe('"ip";r=599;t=1');
    const authed = await t.request("GET", "/api/user", { peer: "192.0.2.1", token: user.token });
    expect(authed.headers.get("ratelimit-policy")).toBe('"ip";q=600;w=60, "user";q=600;w=60');
  });

  test("the per-user limit holds across addresses", async () => {
    const t = await createPeerTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_USER_PER_MINUTE: "3" });
    const user = await registerUser(t);
    for (let i = 0; i < 3; i++) {
      expect((await t.request("GET", "/api/user", { peer: `192.0.2.${i}`, token: user.token })).status).toBe(
        200,
      );
    }
    const res = await t.request("PUT", "/api/user", {
      peer: "192.0.2.50",
      token: user.token,
      body: { user: { bio: "x" } },
    });
    expect(res.status).toBe(429);
    expect(await count(t, "users where id = ? and bio is not null", user.id)).toBe(0);
  });

  test("registration has its own strict bucket", async () => {
    const t = await createPeerTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_AUTH_PER_MINUTE: "2" });
    const register = (i: number) =>
      t.request("POST", "/api/users", {
        peer: "192.0.2.9",
        body: { user: { username: `rl${i}`, email: `rl${i}@example.com`, password: "password-123" } },
      });
    expect((await register(1)).status).toBe(201);
    expect((await register(2)).status).toBe(201);
    expect((await register(3)).status).toBe(429);
    expect(await count(t, "users where username = 'rl3'")).toBe(0);
  });

  test("rate limiting is off by default under NODE_ENV=test, and on when asked", async () => {
    const off = await createPeerTestApp();
    expect(
      (await off.request("GET", "/api/tags", { peer: "192.0.2.1" })).headers.get("ratelimit"),
    ).toBeNull();
  });
});

/**
 * CORS and Vary: answers vary only on what they depend on. Under `CORS_ORIGINS=*` (the development default)
 * every origin gets the same `Access-Control-Allow-Origin: *`, so there is no `Vary: Origin`, and never
 * `Vary: *` (which forbids any cache, the browser's included, from reusing an ETag'd answer). With an
 * allow-list, every answer varies on Origin. API reads vary on Authorization; writes (no-store) do not.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, registerUser, type TestApp } from "../helpers/app.ts";

const varyOf = (h: Headers) =>
  (h.get("vary") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

describe("CORS_ORIGINS=*", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: "*" });
  });

  test("a read is granted to any origin, varies on Authorization only, and revalidates to a 304", async () => {
    const origins: Record<string, string>[] = [
      { origin: "https://a.example" },
      { origin: "https://b.example" },
      {},
    ];
    for (const headers of origins) {
      const res = await t.request("GET", "/api/tags", { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(varyOf(res.headers)).toEqual(["Authorization"]);
      const again = await t.request("GET", "/api/tags", {
        headers: { ...headers, "if-none-match": res.headers.get("etag")! },
      });
      expect(again.status).toBe(304);
      expect(varyOf(again.headers)).toEqual(["Authorization"]);
    }
  });

  test("writes and errors carry no Vary at all", async () => {
    const write = await t.request("POST", "/api/users/login", {
      headers: { origin: "https://a.example" },
      body: { user: { email: "nobody@example.com", password: "wrong-password" } },
    });
    expect(write.status).toBe(401);
    expect(write.headers.get("access-control-allow-origin")).toBe("*");
    expect(write.headers.get("vary")).toBeNull();
  });

  test("a preflight is 204 with the allowed methods and headers, no Vary, and is logged like any request", async () => {
    const logged = await createTestApp({ CORS_ORIGINS: "*", LOG_LEVEL: "info" });
    const res = await logged.request("OPTIONS", "/api/articles/some-slug", {
      headers: {
        origin: "https://a.example",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(res.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toBeNull();
    await Bun.sleep(20);
    const lines = logged.logs.map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ msg: "request", method: "OPTIONS", status: 204 })]);
    // The in-flight gauge went back down (a preflight answered from onRequest used to leave it up).
    const metrics = await logged.request("GET", "/metrics");
    expect(metrics.text).toMatch(/^http_requests_in_flight 1$/m);
  });
});

describe("CORS_ORIGINS=https://app.example.com", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CORS_ORIGINS: "https://app.example.com" });
  });

  test("every answer varies on Origin, granted or not; only the listed origin is echoed", async () => {
    const cases: [Record<string, string>, string | null][] = [
      [{ origin: "https://app.example.com" }, "https://app.example.com"],
      [{ origin: "https://evil.example" }, null],
      [{ origin: "http://app.example.com" }, null],
      [{}, null],
    ];
    for (const [headers, granted] of cases) {
      const res = await t.request("GET", "/api/tags", { headers });
      expect({ headers, acao: res.headers.get("access-control-allow-origin") }).toEqual({
        headers,
        acao: granted,
      });
      expect(varyOf(res.headers)).toEqual(["Origin", "Authorization"]);
    }
  });

  test("a preflight from an unlisted origin gets 204 and no grant; writes vary on Origin only", async () => {
    const refused = await t.request("OPTIONS", "/api/user", {
      headers: { origin: "https://evil.example", "access-control-request-method": "PUT" },
    });
    expect(refused.status).toBe(204);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-methods")).toBeNull();
    expect(varyOf(refused.headers)).toEqual(["Origin"]);
    const user = await registerUser(t);
    const write = await t.request("PUT", "/api/user", {
      token: user.token,
      headers: { origin: "https://app.example.com" },
      body: { user: { bio: "hello" } },
    });
    expect(write.status).toBe(200);
    expect(write.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(varyOf(write.headers)).toEqual(["Origin"]);
  });
});

describe("no CORS (CORS_ORIGINS empty outside development)", () => {
  test("no CORS headers, no Vary: Origin, and OPTIONS is not a route", async () => {
    const t = await createTestApp({ CORS_ORIGINS: "" });
    const res = await t.request("GET", "/api/tags", { headers: { origin: "https://a.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(varyOf(res.headers)).toEqual(["Authorization"]);
    const options = await t.request("OPTIONS", "/api/tags", { headers: { origin: "https://a.example" } });
    expect(options.status).toBe(404);
    expect(options.body).toEqual({ errors: { path: ["not found"] } });
  });
});

/** Who may connect and subscribe, and revocation: anonymous vs authenticated, origin, flag, logout, expiry. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createArticle, envelope, login, registerUser, setRole, type TestUser } from "../helpers/app.ts";
import { Client, refusedUpgrade, type Served, serve } from "./helpers.ts";

let s: Served;
let alice: TestUser;

beforeAll(async () => {
  s = await serve({ CORS_ORIGINS: "https://app.example" });
  alice = await registerUser(s);
});
afterAll(() => s.stop());

describe("anonymous and authenticated sockets", () => {
  test("anonymous: public topics yes, feed refused with an error message", async () => {
    const c = await Client.open(s.ws);
    expect((await c.subscribe("articles")).ack.type).toBe("subscribed");
    const { ack } = await c.subscribe("feed");
    expect(ack).toMatchObject({ type: "error", topic: "feed", code: "unauthorized" });
    expect(ack.message).toContain("token");
    await createArticle(s, alice.token);
    expect((await c.next()).topic).toBe("articles"); // still connected and subscribed to the rest
    c.close();
  });

  test.each([
    ["?token=", (token: string) => Client.open(`${s.ws}?token=${token}`)],
    ["Sec-WebSocket-Protocol", (token: string) => Client.open(s.ws, ["quire", `token.${token}`])],
  ])("a token in %s opens the feed", async (_where, open) => {
    const c = await open(alice.token);
    expect((await c.subscribe("feed")).ack).toMatchObject({ type: "subscribed", topic: "feed" });
    c.close();
  });

  test("a token in the Authorization header (non-browser clients) opens the feed", async () => {
    const socket = new WebSocket(s.ws, {
      headers: { authorization: `Bearer ${alice.token}` },
    } as unknown as string[]);
    const first = new Promise<string>((resolve) => {
      socket.onmessage = (e) => resolve(String(e.data));
    });
    await new Promise((resolve) => {
      socket.onopen = resolve;
    });
    socket.send(JSON.stringify({ op: "subscribe", topic: "feed" }));
    expect(JSON.parse(await first)).toMatchObject({ type: "subscribed", topic: "feed" });
    socket.close();
  });

  test("the subprotocol `quire` is selected, never the token entry", async () => {
    const c = await Client.open(s.ws, [`token.${alice.token}`, "quire"]);
    expect(c.socket.protocol).toBe("quire");
    c.close();
  });

  test("offering subprotocols without `quire` is refused (Bun would echo the first: the token)", async () => {
    const res = await refusedUpgrade(s.ws, { "sec-websocket-protocol": `token.${alice.token}` });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(envelope("Sec-WebSocket-Protocol", 'must include "quire"'));
  });

  test.each([
    ["a garbage token", { authorization: "Token not-a-jwt" }, ""],
    ["a garbage ?token=", {}, "?token=abc.def.ghi"],
    ["a malformed Authorization header", { authorization: "Basic Zm9vOmJhcg==" }, ""],
  ] as [string, Record<string, string>, string][])(
    "%s is 401 before the upgrade",
    async (_name, headers, query) => {
      const res = await refusedUpgrade(`${s.ws}${query}`, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(envelope("token", "is invalid"));
    },
  );
});

describe("documentation and non-upgrade requests", () => {
  test("a plain GET /api/realtime is 426 in the envelope", async () => {
    const res = await s.request("GET", "/api/realtime");
    expect(res.status).toBe(426);
    expect(res.headers.get("upgrade")).toBe("websocket");
    expect(res.body).toEqual(envelope("request", "must be a WebSocket upgrade"));
  });

  test("OpenAPI documents both endpoints (the WebSocket as its GET) with the protocol", async () => {
    const doc = (await s.request("GET", "/openapi/json")).body;
    expect(Object.keys(doc.paths["/api/realtime"])).toEqual(["get"]);
    const ws = doc.paths["/api/realtime"].get;
    for (const word of ['"op":"subscribe"', '"type":"reset"', "4008", "since"])
      expect(ws.description).toContain(word);
    expect(doc.paths["/api/realtime/sse"].get.description).toContain("Last-Event-ID");
  });
});

describe("origin (CORS_ORIGINS=https://app.example)", () => {
  test("a foreign Origin is refused with 403", async () => {
    const res = await refusedUpgrade(s.ws, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(envelope("origin", "is not allowed"));
  });

  test("the allowed Origin, and no Origin (not a browser), connect", async () => {
    const ok = new WebSocket(s.ws, { headers: { origin: "https://app.example" } } as unknown as string[]);
    await new Promise((resolve, reject) => {
      ok.onopen = resolve;
      ok.onerror = reject;
    });
    ok.close();
    (await Client.open(s.ws)).close();
  });
});

describe("revocation", () => {
  test("logout closes that session's sockets with 4001; another session's socket stays", async () => {
    const other = await login(s, alice.email, alice.password);
    const doomed = await Client.open(`${s.ws}?token=${alice.token}`);
    const kept = await Client.open(`${s.ws}?token=${other}`);
    await doomed.subscribe("feed");
    await kept.subscribe("articles");
    const res = await s.request("POST", "/api/users/logout", { token: alice.token });
    expect(res.status).toBe(204);
    expect(await doomed.closed).toEqual({ code: 4001, reason: "session ended" });
    await createArticle(s, other);
    expect((await kept.next()).topic).toBe("articles");
    // The ended token cannot reconnect.
    expect((await refusedUpgrade(`${s.ws}?token=${alice.token}`)).status).toBe(401);
    kept.close();
    alice.token = other;
  });

  test("suspension closes every socket of the account", async () => {
    const admin = await registerUser(s);
    await setRole(s, admin.id, "admin");
    const victim = await registerUser(s);
    const a = await Client.open(`${s.ws}?token=${victim.token}`);
    const b = await Client.open(s.ws, ["quire", `token.${victim.token}`]);
    const res = await s.request("PATCH", `/api/admin/users/${victim.username}`, {
      token: admin.token,
      body: { suspended: true },
    });
    expect(res.status).toBe(200);
    expect((await a.closed).code).toBe(4001);
    expect((await b.closed).code).toBe(4001);
  });
});

describe("token expiry and the realtime flag", () => {
  test("a socket closes with 4001 once its access token expires", async () => {
    const x = await serve({ JWT_TTL_SECONDS: "60", REALTIME_IDLE_TIMEOUT_SECONDS: "1" });
    try {
      const user = await registerUser(x);
      const c = await Client.open(`${x.ws}?token=${user.token}`);
      const anon = await Client.open(x.ws);
      await Bun.sleep(600); // a few sweeps: nothing closes before expiry (and pongs keep it alive)
      expect(c.socket.readyState).toBe(WebSocket.OPEN);
      x.clock.advance(61_000);
      expect(await c.closed).toEqual({ code: 4001, reason: "token expired" });
      expect(anon.socket.readyState).toBe(WebSocket.OPEN);
      anon.close();
    } finally {
      await x.stop();
    }
  });

  test("QUIRE_FLAG_REALTIME=off refuses upgrades and SSE with 503", async () => {
    const x = await serve({ QUIRE_FLAG_REALTIME: "off" });
    try {
      const res = await refusedUpgrade(x.ws);
      expect(res.status).toBe(503);
      expect(res.body).toEqual(envelope("realtime", "is disabled"));
      const sse = await fetch(`${x.http}/api/realtime/sse?topics=articles`);
      expect(sse.status).toBe(503);
      expect(await sse.json()).toEqual(envelope("realtime", "is disabled"));
    } finally {
      await x.stop();
    }
  });
});

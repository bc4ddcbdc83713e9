/**
 * The compiled binary, with production defaults (rate limits on, CORS allow-list), over real sockets: a
 * smoke test of each feature area beyond the RealWorld suite (binary.test.ts) and operations (ops.test.ts):
 * token attacks, refresh-token replay, brute-force limits, CORS and headers, the admin API and the first
 * admin from the CLI, realtime (events, revocation, 1001 on shutdown), search and HTTP caching, maintenance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { api, buildBinary, runCli, type Server, serverEnv, startServer, workDir } from "../helpers/binary.ts";

const work = workDir();
const dataDir = join(work, "data");
const SECRET = "features-e2e-secret-that-is-long-enough-0123";
const env = {
  JWT_SECRET: SECRET,
  RATE_LIMIT_ENABLED: "true",
  CORS_ORIGINS: "https://app.example",
  REFRESH_REUSE_GRACE_SECONDS: "0",
};
let binary = "";
let server: Server;
let adminToken = "";

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true });
  binary = await buildBinary(work);
  server = await startServer(binary, dataDir, env);
}, 120_000);
afterAll(async () => {
  if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
});

const user = (name: string) => ({
  username: name,
  email: `${name}@example.com`,
  password: "correct horse battery",
});

async function signUp(name: string) {
  const res = await api(server.origin, "POST", "/api/users", { user: user(name) });
  expect(res.status).toBe(201);
  return res.body.user as { token: string; refreshToken: string; username: string };
}

describe("accounts and tokens", () => {
  test("forged tokens are refused: alg none, HS512 with the real secret, another secret", async () => {
    const me = await signUp("forger");
    const claims = JSON.parse(Buffer.from(me.token.split(".")[1]!, "base64url").toString());
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${me.token.split(".")[1]}.`;
    const key = new TextEncoder().encode(SECRET);
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: "HS512" }).sign(key);
    const other = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("x".repeat(40)));
    for (const token of [none, hs512, other]) {
      const res = await api(server.origin, "GET", "/api/user", undefined, token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { token: ["is invalid"] } });
    }
    expect((await api(server.origin, "GET", "/api/user", undefined, me.token)).status).toBe(200);
  });

  test("a replayed refresh token ends the whole session", async () => {
    const me = await signUp("replayer");
    const first = await api(server.origin, "POST", "/api/users/refresh", { refreshToken: me.refreshToken });
    expect(first.status).toBe(200);
    const replay = await api(server.origin, "POST", "/api/users/refresh", { refreshToken: me.refreshToken });
    expect(replay.status).toBe(401);
    expect((await api(server.origin, "GET", "/api/user", undefined, first.body.user.token)).status).toBe(401);
  });

  test("CORS grants only the listed origin, and security headers come on errors too", async () => {
    const listed = await fetch(`${server.origin}/api/tags`, { headers: { origin: "https://app.example" } });
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(listed.headers.get("access-control-allow-credentials")).toBeNull();
    const unlisted = await fetch(`${server.origin}/api/tags`, {
      headers: { origin: "https://evil.example" },
    });
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();
    const missing = await fetch(`${server.origin}/api/articles/no-such-article`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-content-type-options")).toBe("nosniff");
    expect(missing.headers.get("x-frame-options")).toBe("DENY");
    expect(missing.headers.get("x-powered-by")).toBeNull();
  });

  test("the first admin comes from the CLI while the server runs; editors get 403 on the admin API", async () => {
    const editor = await signUp("plain-editor");
    expect((await api(server.origin, "GET", "/api/admin/users", undefined, editor.token)).status).toBe(403);
    const cli = await runCli(
      binary,
      [
        "admin",
        "create",
        "--email",
        "root@example.com",
        "--username",
        "root",
        "--password",
        "root password 123",
      ],
      serverEnv(dataDir, env),
    );
    expect(cli.code).toBe(0);
    const login = await api(server.origin, "POST", "/api/users/login", {
      user: { email: "root@example.com", password: "root password 123" },
    });
    expect(login.status).toBe(200);
    adminToken = login.body.user.token;
    const users = await api(server.origin, "GET", "/api/admin/users?q=plain", undefined, adminToken);
    expect(users.status).toBe(200);
    expect(users.body.users.map((u: { username: string }) => u.username)).toEqual(["plain-editor"]);
  });

  // Last of the login users here: it spends this client's login budget (later tests reuse adminToken).
  test("brute-force login is limited per client; a spoofed X-Forwarded-For changes nothing", async () => {
    await signUp("target");
    const attempt = (headers: Record<string, string> = {}) =>
      fetch(`${server.origin}/api/users/login`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ user: { email: "target@example.com", password: "wrong password" } }),
      });
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await attempt();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited!.headers.get("ratelimit-policy")).toContain('"login"');
    expect(await limited!.json()).toEqual({ errors: { rate: [expect.stringContaining("limit exceeded")] } });
    expect((await attempt({ "x-forwarded-for": "203.0.113.9" })).status).toBe(429);
  });
});

describe("search, caching and flags", () => {
  test("full-text search finds a new article; ETags answer 304", async () => {
    const me = await signUp("searcher");
    const created = await api(
      server.origin,
      "POST",
      "/api/articles",
      { article: { title: "Zeppelins over Lisbon", description: "d", body: "airships", tagList: ["air"] } },
      me.token,
    );
    expect(created.status).toBe(201);
    const found = await api(server.origin, "GET", "/api/articles?q=zeppelin*%20lisbon");
    expect(found.status).toBe(200);
    const hostile = await api(
      server.origin,
      "GET",
      `/api/articles?q=${encodeURIComponent('"NEAR( title: ***')}`,
    );
    expect(hostile.status).toBe(200);
    const search = await api(server.origin, "GET", "/api/articles?q=lisbon");
    expect(search.body.articles.map((a: { slug: string }) => a.slug)).toEqual([created.body.article.slug]);
    const first = await fetch(`${server.origin}/api/articles/${created.body.article.slug}`);
    const etag = first.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await fetch(`${server.origin}/api/articles/${created.body.article.slug}`, {
      headers: { "if-none-match": etag! },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("maintenance mode: writes 503 with Retry-After, reads 200, an admin switches it off", async () => {
    const admin = adminToken;
    const on = await api(server.origin, "PATCH", "/api/admin/flags/maintenance", { enabled: true }, admin);
    expect(on.status).toBe(200);
    const write = await fetch(`${server.origin}/api/articles`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Token ${admin}` },
      body: JSON.stringify({ article: { title: "t", description: "d", body: "b" } }),
    });
    expect(write.status).toBe(503);
    expect(write.headers.get("retry-after")).toBeTruthy();
    expect((await api(server.origin, "GET", "/api/tags")).status).toBe(200);
    const off = await api(server.origin, "PATCH", "/api/admin/flags/maintenance", { enabled: false }, admin);
    expect(off.status).toBe(200);
    const after = await api(
      server.origin,
      "POST",
      "/api/articles",
      { article: { title: "Back", description: "d", body: "b" } },
      admin,
    );
    expect(after.status).toBe(201);
  });
});

/** A WebSocket whose messages and close are collected. */
function socket(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  const messages: { type: string; event?: string; code?: string }[] = [];
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  ws.onmessage = (e) => messages.push(JSON.parse(String(e.data)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("cannot connect")));
  });
  const until = async (pred: (m: (typeof messages)[number]) => boolean) => {
    for (let i = 0; i < 200; i++) {
      const found = messages.find(pred);
      if (found) return found;
      await Bun.sleep(10);
    }
    throw new Error(`no such message in ${JSON.stringify(messages)}`);
  };
  return { ws, messages, closed, opened, until };
}

describe("realtime", () => {
  test("an event after a REST write; the feed needs a token; logout closes the socket with 4001", async () => {
    const writer = await signUp("live-writer");
    const wsUrl = server.origin.replace("http", "ws");
    const anon = socket(`${wsUrl}/api/realtime`);
    await anon.opened;
    anon.ws.send(JSON.stringify({ op: "subscribe", topic: "articles" }));
    anon.ws.send(JSON.stringify({ op: "subscribe", topic: "feed" }));
    await anon.until((m) => m.type === "subscribed");
    expect((await anon.until((m) => m.type === "error")).code).toBe("unauthorized");
    await api(
      server.origin,
      "POST",
      "/api/articles",
      { article: { title: "Live", description: "d", body: "b" } },
      writer.token,
    );
    expect((await anon.until((m) => m.type === "event")).event).toBe("article.created");

    const authed = socket(`${wsUrl}/api/realtime`, ["quire", `token.${writer.token}`]);
    await authed.opened;
    expect((await api(server.origin, "POST", "/api/users/logout", undefined, writer.token)).status).toBe(204);
    expect(await authed.closed).toBe(4001);
    anon.ws.close();
  });

  test("SIGTERM closes open sockets with 1001 and the process exits 0", async () => {
    const open = socket(`${server.origin.replace("http", "ws")}/api/realtime`);
    await open.opened;
    server.proc.kill("SIGTERM");
    expect(await open.closed).toBe(1001);
    expect(await server.exited).toBe(0);
  });
});

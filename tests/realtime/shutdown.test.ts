/**
 * Graceful shutdown: every realtime connection is closed with 1001 before the server stops. In-process via
 * closeAllSockets, and end to end: `quire serve` (the compiled binary when QUIRE_BINARY names one, else
 * `bun src/main.ts`) receiving SIGTERM with a subscribed socket open.
 */
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { closeAllSockets } from "../../src/modules/realtime/hub.ts";
import { registerUser, TEST_SECRET } from "../helpers/app.ts";
import { Client, refusedUpgrade, serve, sseReader } from "./helpers.ts";

test("closeAllSockets: WebSockets get 1001, SSE streams end, later upgrades get 503", async () => {
  const s = await serve();
  try {
    const user = await registerUser(s);
    const anon = await Client.open(s.ws);
    const authed = await Client.open(`${s.ws}?token=${user.token}`);
    await authed.subscribe("feed");
    const sse = sseReader(await fetch(`${s.http}/api/realtime/sse?topics=articles`));
    await sse.next();
    closeAllSockets(s.ctx);
    expect(await anon.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await authed.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await sse.ended()).toBe(true);
    const late = await refusedUpgrade(s.ws);
    expect(late.status).toBe(503);
    expect(late.body).toEqual({ errors: { realtime: ["is shutting down"] } });
  } finally {
    await s.stop();
  }
});

test("end to end on `quire serve`: REST write → WebSocket and SSE event, resume, then SIGTERM → 1001, exit 0", async () => {
  const root = resolve(import.meta.dir, "../..");
  const cmd = process.env.QUIRE_BINARY
    ? [process.env.QUIRE_BINARY, "serve"]
    : [process.execPath, resolve(root, "src/main.ts"), "serve"];
  const proc = Bun.spawn(cmd, {
    env: {
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: ":memory:",
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "info",
      PASSWORD_MEMORY_COST_KIB: "8",
      PASSWORD_TIME_COST: "1",
      PATH: process.env.PATH ?? "",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    // The first log line says where it listens.
    const reader = proc.stdout.getReader();
    let out = "";
    while (!/listening on (http:\/\/\S+)/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited: ${out}`);
      out += new TextDecoder().decode(value);
    }
    const url = /listening on (http:\/\/[^\s"]+)/.exec(out)![1]!;
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Token ${token}` }) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, Record<string, string>> };
    };
    const user = { username: "e2e", email: "e2e@example.com", password: "correct horse battery" };
    const reg = await post("/api/users", { user });
    expect(reg.status).toBe(201);
    const token = reg.body.user!.token!;
    const c = await Client.open(`${url.replace("http", "ws")}/api/realtime`, ["quire", `token.${token}`]);
    const { ack } = await c.subscribe("articles");
    expect(ack.type).toBe("subscribed");
    const sse = sseReader(
      await fetch(`${url}/api/realtime/sse?topics=articles`, {
        headers: { "last-event-id": String(ack.seq) },
      }),
    );
    expect((await sse.next()).data.type).toBe("subscribed");
    const article = { title: "From the binary", description: "d", body: "b" };
    expect((await post("/api/articles", { article }, token)).status).toBe(201);
    const event = await c.next();
    expect(event).toMatchObject({
      type: "event",
      event: "article.created",
      data: { article: { title: article.title } },
    });
    expect((await sse.next()).data).toEqual(event);
    // Resume: a new socket from the acknowledged position gets the article again, then the ack.
    const again = await Client.open(`${url.replace("http", "ws")}/api/realtime`);
    expect((await again.subscribe("articles", ack.seq)).before).toEqual([event]);
    proc.kill("SIGTERM");
    expect(await again.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await sse.ended()).toBe(true);
    expect(await c.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
}, 20_000);

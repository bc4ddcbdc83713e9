/** Every realtime limit, each on its own small server: size, subscriptions, rate, connections, idle, slow. */
import { describe, expect, test } from "bun:test";
import { envelope, registerUser } from "../helpers/app.ts";
import { Client, rawClient, refusedUpgrade, type Served, serve } from "./helpers.ts";

async function withServer(overrides: Record<string, string>, fn: (s: Served) => Promise<void>) {
  const s = await serve(overrides);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

describe("client messages", () => {
  test("a message over REALTIME_MAX_MESSAGE_BYTES closes the socket with 1009", () =>
    withServer({ REALTIME_MAX_MESSAGE_BYTES: "1024" }, async (s) => {
      const c = await Client.open(s.ws);
      c.send({ op: "subscribe", topic: `tags:${"x".repeat(900)}` }); // under the limit: an ordinary error
      expect((await c.next()).code).toBe("invalid_topic");
      c.send({ op: "subscribe", topic: `tags:${"x".repeat(2000)}` });
      expect((await c.closed).code).toBe(1009);
    }));

  test("REALTIME_MAX_SUBSCRIPTIONS per connection", () =>
    withServer({ REALTIME_MAX_SUBSCRIPTIONS: "3" }, async (s) => {
      const c = await Client.open(s.ws);
      for (const t of ["articles", "tags:a", "tags:b"])
        expect((await c.subscribe(t)).ack.type).toBe("subscribed");
      const { ack } = await c.subscribe("tags:c");
      expect(ack).toMatchObject({ type: "error", code: "too_many_subscriptions", topic: "tags:c" });
      c.send({ op: "unsubscribe", topic: "tags:a" });
      expect((await c.subscribe("tags:c")).ack.type).toBe("subscribed");
      c.close();
    }));

  test("message rate: a burst is served, then rate_limited, then a further burst closes with 1008", () =>
    withServer({ REALTIME_MESSAGES_PER_SECOND: "1", REALTIME_MESSAGE_BURST: "5" }, async (s) => {
      const c = await Client.open(s.ws);
      for (let i = 0; i < 10; i++) c.send({ op: "ping" });
      const replies = await c.take(10);
      expect(replies.slice(0, 5)).toEqual(Array(5).fill({ type: "pong" }));
      for (const r of replies.slice(5)) expect(r).toMatchObject({ type: "error", code: "rate_limited" });
      c.send({ op: "ping" });
      expect(await c.closed).toEqual({ code: 1008, reason: "message rate exceeded" });
    }));

  test("the bucket refills: a client that waits is served again", () =>
    withServer({ REALTIME_MESSAGES_PER_SECOND: "20", REALTIME_MESSAGE_BURST: "2" }, async (s) => {
      const c = await Client.open(s.ws);
      for (let i = 0; i < 3; i++) c.send({ op: "ping" });
      expect((await c.take(3)).map((m) => m.type)).toEqual(["pong", "pong", "error"]);
      await Bun.sleep(150);
      c.send({ op: "ping" });
      expect(await c.next()).toEqual({ type: "pong" });
      c.close();
    }));
});

describe("connections", () => {
  test("per IP: 429 past REALTIME_MAX_CONNECTIONS_PER_IP (SSE included), room again after a close", () =>
    withServer({ REALTIME_MAX_CONNECTIONS_PER_IP: "3" }, async (s) => {
      const a = await Client.open(s.ws);
      const b = await Client.open(s.ws);
      const sse = await fetch(`${s.http}/api/realtime/sse?topics=articles`);
      expect(sse.status).toBe(200);
      const res = await refusedUpgrade(s.ws);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(envelope("realtime", "too many connections from this address"));
      const sse2 = await fetch(`${s.http}/api/realtime/sse?topics=articles`);
      expect(sse2.status).toBe(429);
      a.close();
      await a.closed;
      while (s.ctx.realtime.stats().connections > 2) await Bun.sleep(5); // the server saw it too
      const c = await Client.open(s.ws);
      for (const x of [b, c]) x.close();
      await sse.body?.cancel();
    }));

  test("per user: 429 past REALTIME_MAX_CONNECTIONS_PER_USER; anonymous and other users unaffected", () =>
    withServer({ REALTIME_MAX_CONNECTIONS_PER_USER: "2" }, async (s) => {
      const [u, v] = [await registerUser(s), await registerUser(s)];
      const open = [
        await Client.open(`${s.ws}?token=${u.token}`),
        await Client.open(`${s.ws}?token=${u.token}`),
      ];
      const res = await refusedUpgrade(`${s.ws}?token=${u.token}`);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(envelope("realtime", "too many connections for this user"));
      open.push(await Client.open(`${s.ws}?token=${v.token}`), await Client.open(s.ws));
      for (const c of open) c.close();
    }));

  test("in total: 503 with Retry-After past REALTIME_MAX_CONNECTIONS", () =>
    withServer({ REALTIME_MAX_CONNECTIONS: "2" }, async (s) => {
      const open = [await Client.open(s.ws), await Client.open(s.ws)];
      const res = await refusedUpgrade(s.ws);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(res.body).toEqual(envelope("realtime", "is at capacity"));
      for (const c of open) c.close();
    }));
});

describe("liveness and backpressure", () => {
  test("idle: pinged after half the timeout, closed with 4002 when it never answers; pongs keep a socket", () =>
    withServer({ REALTIME_IDLE_TIMEOUT_SECONDS: "1" }, async (s) => {
      const healthy = await Client.open(s.ws); // Bun's client answers pings by itself
      const mute = await rawClient(s.port);
      expect(mute.status).toBe("101");
      expect(await mute.until(() => mute.closeCode() !== undefined, 3_000)).toBe(true);
      const frames = mute.frames();
      expect(frames[0]!.opcode).toBe(9); // ping first
      expect(mute.closeCode()).toBe(4002);
      expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
      healthy.send({ op: "ping" });
      expect(await healthy.next()).toEqual({ type: "pong" });
      healthy.close();
    }));

  test("a consumer that stops reading is closed (4008) once REALTIME_SEND_BUFFER_BYTES is queued; others keep up", () =>
    withServer({ REALTIME_SEND_BUFFER_BYTES: "65536", LOG_LEVEL: "info" }, async (s) => {
      const hub = s.ctx.realtime;
      const fast = await Client.open(s.ws);
      await fast.subscribe("articles");
      const slow = await rawClient(s.port);
      slow.sendText(JSON.stringify({ op: "subscribe", topic: "articles" }));
      await slow.until(() => slow.frames().length > 0, 2_000);
      slow.pause();
      expect(hub.stats().connections).toBe(2);
      // 8 MB in 100 KB events: far more than the kernel's socket buffers plus 64 KB.
      const blob = "x".repeat(100_000);
      for (let i = 0; i < 80; i++) {
        hub.publish({ topic: "articles", key: "articles", event: "test.big", data: { i, blob } });
        if (i % 10 === 9) await Bun.sleep(5); // let the fast client read
      }
      const deadline = Date.now() + 5_000;
      while (hub.stats().connections > 1 && Date.now() < deadline) await Bun.sleep(20);
      expect(hub.stats().connections).toBe(1);
      expect(s.logs.some((l) => l.includes('"kind":"ws"') && l.includes('"code":4008'))).toBe(true);
      const got = await fast.take(80, 5_000);
      expect(got.map((m) => m.data.i)).toEqual([...Array(80).keys()]);
      slow.resume();
      expect(await slow.until(() => slow.ended(), 5_000)).toBe(true);
      // What it did get is a prefix of the stream: whole, in order, and then nothing.
      const events = slow
        .frames()
        .filter((f) => f.opcode === 1)
        .slice(1);
      const indexes = events.map((f) => JSON.parse(new TextDecoder().decode(f.payload)).data.i);
      expect(indexes).toEqual([...indexes.keys()]);
      expect(events.length).toBeLessThan(80);
      fast.close();
    }));

  test("an SSE stream that stops being read is ended once REALTIME_SEND_BUFFER_BYTES is queued", () =>
    withServer({ REALTIME_SEND_BUFFER_BYTES: "65536", LOG_LEVEL: "info" }, async (s) => {
      const hub = s.ctx.realtime;
      let received = "";
      let head = "";
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: s.port,
        socket: {
          data(_s, chunk) {
            if (head === "") head = new TextDecoder().decode(chunk.subarray(0, 20));
            // The tail is enough: is the response over?
            received = (received + new TextDecoder().decode(chunk.subarray(-200))).slice(-400);
          },
        },
      });
      socket.write("GET /api/realtime/sse?topics=articles HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const start = Date.now();
      while (!received.includes('"subscribed"') && Date.now() - start < 2_000) await Bun.sleep(10);
      expect(head).toStartWith("HTTP/1.1 200");
      socket.pause();
      const blob = "x".repeat(100_000);
      for (let i = 0; i < 100 && hub.stats().connections > 0; i++) {
        hub.publish({ topic: "articles", key: "articles", event: "test.big", data: { i, blob } });
        await Bun.sleep(2); // give Bun the chance to pull, as a live stream would
      }
      expect(hub.stats().connections).toBe(0);
      expect(s.logs.some((l) => l.includes('"kind":"sse"') && l.includes("slow consumer"))).toBe(true);
      socket.resume();
      // The response is ended (chunked terminator) after what had already left.
      const deadline = Date.now() + 3_000;
      while (!received.endsWith("0\r\n\r\n") && Date.now() < deadline) await Bun.sleep(20);
      expect(received.endsWith("0\r\n\r\n")).toBe(true);
      socket.end();
    }));
});

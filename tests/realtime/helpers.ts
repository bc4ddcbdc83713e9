/**
 * Realtime tests run the real app on a real socket (127.0.0.1, port 0) over a fresh `:memory:` database,
 * with Bun's WebSocket client, fetch (SSE) and, for misbehaving clients, raw TCP.
 */
import { createTestApp, type TestApp } from "../helpers/app.ts";

export interface Served extends TestApp {
  port: number;
  http: string;
  ws: string;
  stop(): Promise<void>;
}

export async function serve(overrides: Record<string, string> = {}): Promise<Served> {
  const t = await createTestApp(overrides);
  t.app.listen({ port: 0, hostname: "127.0.0.1" });
  const port = t.app.server!.port!;
  return {
    ...t,
    port,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/api/realtime`,
    async stop() {
      const { closeAllSockets } = await import("../../src/modules/realtime/hub.ts");
      closeAllSockets(t.ctx);
      await t.app.stop(true);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: protocol messages are inspected freely by tests
export type Msg = any;

/** A WebSocket client that queues what it receives, so tests can await messages in order. */
export class Client {
  readonly received: Msg[] = [];
  #waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (e) => {
      this.received.push(JSON.parse(String(e.data)));
      for (const w of this.#waiters.splice(0)) w();
    };
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (e) => {
        resolve({ code: e.code, reason: e.reason });
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  static open(url: string, protocols?: string[]): Promise<Client> {
    const socket = new WebSocket(url, protocols);
    const client = new Client(socket);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(client));
      socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)));
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message (in order), waiting up to `ms`. */
  async next(ms = 2_000): Promise<Msg> {
    const deadline = Date.now() + ms;
    while (this.received.length === 0) {
      if (this.socket.readyState >= WebSocket.CLOSING) throw new Error("socket closed while waiting");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no message in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.shift();
  }

  /** The next `n` messages. */
  async take(n: number, ms = 2_000): Promise<Msg[]> {
    const out: Msg[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(ms));
    return out;
  }

  /** Subscribe and return the `subscribed` acknowledgement (and anything received before it). */
  async subscribe(topic: string, since?: number): Promise<{ ack: Msg; before: Msg[] }> {
    this.send({ op: "subscribe", topic, ...(since !== undefined && { since }) });
    const before: Msg[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type === "subscribed" || m.type === "error") return { ack: m, before };
      before.push(m);
    }
  }

  /** Assert that nothing arrives for `ms` (a round trip through ping proves the server saw our messages). */
  async quiet(ms = 100): Promise<void> {
    this.send({ op: "ping" });
    const m = await this.next();
    if (m.type !== "pong") throw new Error(`expected silence, got ${JSON.stringify(m)}`);
    await Bun.sleep(ms);
    if (this.received.length > 0)
      throw new Error(`expected silence, got ${JSON.stringify(this.received[0])}`);
  }

  close(): void {
    this.socket.close();
  }
}

/** An upgrade request that should be refused: its HTTP status and body. */
export async function refusedUpgrade(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url.replace(/^ws/, "http"), {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      ...headers,
    },
  });
  return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
}

/**
 * A raw TCP WebSocket client: does the handshake, then reads only when told to. `frames` parses what was
 * read (server frames are unmasked); a close frame's code is in `closeCode`.
 */
export async function rawClient(port: number, path = "/api/realtime") {
  let buffer = new Uint8Array(0);
  let ended = false;
  let onData: (() => void) | undefined;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        const next = new Uint8Array(buffer.length + chunk.length);
        next.set(buffer);
        next.set(chunk, buffer.length);
        buffer = next;
        onData?.();
      },
      close() {
        ended = true;
        onData?.();
      },
      end() {
        ended = true;
        onData?.();
      },
    },
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        onData = resolve;
        setTimeout(resolve, 50);
      });
    }
    return done();
  };
  await until(() => new TextDecoder().decode(buffer).includes("\r\n\r\n"), 2_000);
  const head = new TextDecoder().decode(buffer).split("\r\n\r\n")[0]!;
  buffer = buffer.slice(head.length + 4);
  /** Send a masked text frame (clients must mask). */
  const sendText = (text: string) => {
    const payload = new TextEncoder().encode(text);
    if (payload.length > 125) throw new Error("rawClient: short frames only");
    const frame = new Uint8Array(6 + payload.length);
    frame[0] = 0x81;
    frame[1] = 0x80 | payload.length;
    frame.set([1, 2, 3, 4], 2);
    payload.forEach((b, i) => {
      frame[6 + i] = b ^ [1, 2, 3, 4][i % 4]!;
    });
    socket.write(frame);
  };
  /** Opcodes and payloads of the complete frames read so far. */
  const frames = () => {
    const out: { opcode: number; payload: Uint8Array }[] = [];
    let i = 0;
    while (i + 2 <= buffer.length) {
      const opcode = buffer[i]! & 0x0f;
      let len = buffer[i + 1]! & 0x7f;
      let at = i + 2;
      if (len === 126) {
        if (at + 2 > buffer.length) break;
        len = (buffer[at]! << 8) | buffer[at + 1]!;
        at += 2;
      } else if (len === 127) {
        if (at + 8 > buffer.length) break;
        len = Number(new DataView(buffer.buffer, buffer.byteOffset + at, 8).getBigUint64(0));
        at += 8;
      }
      if (at + len > buffer.length) break;
      out.push({ opcode, payload: buffer.slice(at, at + len) });
      i = at + len;
    }
    return out;
  };
  const closeCode = () => {
    const close = frames().find((f) => f.opcode === 8);
    return close && close.payload.length >= 2 ? (close.payload[0]! << 8) | close.payload[1]! : undefined;
  };
  return {
    status: head.split(" ")[1],
    socket,
    /** Stop reading: the kernel buffers fill, then the server's send queue grows. */
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    sendText,
    frames,
    closeCode,
    bytes: () => buffer.length,
    ended: () => ended,
    until,
  };
}

export interface SseFrame {
  id?: string;
  data?: Msg;
  comment?: string;
}

/** Reads an SSE response frame by frame. */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let done = false;
  let pending: ReturnType<typeof reader.read> | undefined;
  const next = async (ms = 2_000): Promise<SseFrame> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = text.indexOf("\n\n");
      if (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(": ")) frame.comment = line.slice(2);
          else if (line.startsWith("id: ")) frame.id = line.slice(4);
          else if (line.startsWith("data: ")) frame.data = JSON.parse(line.slice(6));
        }
        return frame;
      }
      if (done) throw new Error("stream ended");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no SSE frame in time");
      const timeout = new Promise<"timeout">((r) => setTimeout(r, left, "timeout"));
      // A read still pending after a timeout is kept for the next call, so no chunk is lost.
      pending ??= reader.read();
      const chunk = await Promise.race([pending, timeout]);
      if (chunk === "timeout") throw new Error("no SSE frame in time");
      pending = undefined;
      if (chunk.done) done = true;
      else text += decoder.decode(chunk.value, { stream: true });
    }
  };
  /** Resolves true once the server ends the stream (frames still unread are skipped). */
  const ended = async (ms = 2_000) => {
    try {
      for (;;) await next(ms);
    } catch (err) {
      return (err as Error).message === "stream ended";
    }
  };
  return { next, ended, cancel: () => reader.cancel() };
}

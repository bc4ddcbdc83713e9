/**
 * A WebSocket connection (Bun's ServerWebSocket) as the hub sees it, and the client-message dispatcher.
 * Liveness is ours, not Bun's: the server pings after half of REALTIME_IDLE_TIMEOUT_SECONDS of silence and
 * closes with 4002 after all of it, so the behaviour does not depend on uWebSockets' timer granularity.
 */
import type { ServerWebSocket } from "bun";
import type { AppContext } from "../../context.ts";
import type { Conn, ConnViewer } from "./connection.ts";
import { MessageBucket } from "./connection.ts";
import type { RealtimeHub } from "./hub.ts";
import { CloseCode, errorMessage, isProtocolError, parseClientMessage, pongMessage } from "./protocol.ts";
import { isRefusal, resolveTopic } from "./topics.ts";

export class WsConn implements Conn {
  readonly kind = "ws";
  readonly topics = new Set<string>();
  feedAuthors: Set<number> | undefined;
  readonly bucket: MessageBucket;
  #lastSeen = performance.now();
  #pinged = false;
  /** Client messages are handled one after another, in the order they came (handling may await the store). */
  #handling: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: RealtimeHub,
    private readonly ws: ServerWebSocket<unknown>,
    readonly ip: string,
    readonly viewer: ConnViewer | undefined,
    private readonly limits: { sendBufferBytes: number; idleMs: number; perSecond: number; burst: number },
  ) {
    this.bucket = new MessageBucket(limits.perSecond, limits.burst, this.#lastSeen);
  }

  get open(): boolean {
    return this.ws.readyState === 1;
  }

  send(message: string): boolean {
    if (!this.open) return false;
    // -1: queued behind backpressure; 0: dropped because the queue is over Bun's limit (= ours).
    const sent = this.ws.send(message, false);
    if (sent === 0 || (sent === -1 && this.ws.getBufferedAmount() > this.limits.sendBufferBytes)) {
      this.hub.tooSlow(this);
      return false;
    }
    return true;
  }

  subscribeKey(key: string): void {
    if (this.open) this.ws.subscribe(key);
  }

  unsubscribeKey(key: string): void {
    if (this.open) this.ws.unsubscribe(key);
  }

  close(code: number, reason: string): void {
    if (this.open) this.ws.close(code, reason);
  }

  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }

  /** Run `fn` after the messages before it; a failure closes the socket (1011) rather than go unnoticed. */
  handle(fn: () => Promise<void>): void {
    this.#handling = this.#handling.then(fn).catch(() => this.close(CloseCode.internal, "internal error"));
  }

  /** Any frame from the client (message or pong) proves it alive. */
  seen(now = performance.now()): void {
    this.#lastSeen = now;
    this.#pinged = false;
  }

  tick(now: number): void {
    const silent = now - this.#lastSeen;
    if (silent >= this.limits.idleMs) this.close(CloseCode.idle, "idle timeout");
    else if (silent >= this.limits.idleMs / 2 && !this.#pinged && this.open) {
      this.#pinged = true;
      this.ws.ping();
    }
  }
}

/** Handle one client message. */
export async function handleMessage(
  ctx: AppContext,
  hub: RealtimeHub,
  conn: WsConn,
  raw: unknown,
): Promise<void> {
  const now = performance.now();
  conn.seen(now);
  hub.countIn();
  const verdict = conn.bucket.take(now);
  if (verdict === "close") {
    conn.close(CloseCode.policy, "message rate exceeded");
    return;
  }
  if (verdict === "limited") {
    conn.send(errorMessage({ code: "rate_limited", message: "too many messages: slow down" }));
    return;
  }
  const msg = parseClientMessage(raw);
  if (isProtocolError(msg)) {
    conn.send(errorMessage(msg));
    return;
  }
  if (msg.op === "ping") {
    conn.send(pongMessage);
    return;
  }
  if (msg.op === "unsubscribe") {
    // The client may spell a topic differently from its canonical name (a username's case).
    let name = msg.topic;
    if (!conn.topics.has(name)) {
      const topic = await resolveTopic(ctx, name, conn.viewer);
      if (!isRefusal(topic)) name = topic.name;
    }
    if (!hub.unsubscribe(conn, name))
      conn.send(
        errorMessage({ code: "not_subscribed", topic: msg.topic, message: "not subscribed to this topic" }),
      );
    return;
  }
  if (conn.topics.size >= ctx.config.REALTIME_MAX_SUBSCRIPTIONS) {
    const message = `at most ${ctx.config.REALTIME_MAX_SUBSCRIPTIONS} subscriptions per connection`;
    conn.send(errorMessage({ code: "too_many_subscriptions", topic: msg.topic, message }));
    return;
  }
  const topic = await resolveTopic(ctx, msg.topic, conn.viewer);
  if (isRefusal(topic)) {
    conn.send(errorMessage(topic));
    return;
  }
  if (conn.topics.has(topic.name)) {
    conn.send(errorMessage({ code: "already_subscribed", topic: topic.name, message: "already subscribed" }));
    return;
  }
  await hub.subscribe(conn, [{ topic, since: msg.since }]);
}

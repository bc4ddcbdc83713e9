/**
 * What the hub needs from a connection, whatever carries it (WebSocket or SSE), and the per-connection
 * message-rate bucket.
 */
import type { Role } from "../../policy.ts";

export interface ConnViewer {
  id: number;
  role: Role;
  sessionId: string;
  /** When the access token the connection presented expires (ms since the epoch): the socket closes then. */
  expiresAt: number | undefined;
}

export interface Conn {
  readonly kind: "ws" | "sse";
  /** Connection-limit key of the client address (IPv6: its /64). */
  readonly ip: string;
  readonly viewer: ConnViewer | undefined;
  /** Canonical names of the topics subscribed to. */
  readonly topics: Set<string>;
  /** For a feed subscriber: the authors whose `feed:<id>` keys it is subscribed to. */
  feedAuthors: Set<number> | undefined;
  /**
   * Queue one protocol message (`seq` becomes the SSE event id). False when the connection is, or has just
   * been, closed for being too slow: the caller stops sending to it.
   */
  send(message: string, seq?: number): boolean;
  subscribeKey(key: string): void;
  unsubscribeKey(key: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued in the server for this connection. */
  bufferedAmount(): number;
  /** Periodic upkeep: pings and idle timeout (WebSocket), heartbeats (SSE). `now` is performance.now(). */
  tick(now: number): void;
}

/**
 * Token bucket of client messages: `burst` at once, refilled at `perSecond`. An empty bucket goes into debt
 * instead of refusing silently, so that a client that ignores `rate_limited` errors for another whole burst
 * can be told apart (and disconnected) from one that merely bursts.
 */
export class MessageBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** ok: handle the message; limited: answer rate_limited; close: the client is abusing the limit. */
  take(now: number): "ok" | "limited" | "close" {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return "ok";
    return this.#tokens < -this.burst ? "close" : "limited";
  }
}

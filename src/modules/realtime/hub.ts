/**
 * The realtime hub of one app context: which connections exist, what they subscribe to, and publishing.
 *
 * Delivery model (the listeners are registered in src/listeners.ts):
 * - Domain events become deliveries inside the write's unit of work (`prepare`, payloads.ts) and are
 *   published after its commit (`publish`), so only committed writes are published, in commit order (the
 *   store runs after-commit handlers in commit order).
 * - Each delivery gets a sequence number and is kept in the topic's history (src/lib/topic-history.ts), then
 *   sent with one `server.publish(key)`: Bun fans it out natively to WebSocket subscribers. SSE
 *   connections are written to from JavaScript.
 * - A subscribe (with or without `since`) reads what it needs from the store first (a feed's followees),
 *   then replays, acknowledges and joins the live stream in one synchronous step, so nothing can be
 *   published in between: no gap, no duplicate.
 *
 * Limits: connections in total / per IP / per user are counted here; a connection whose send queue passes
 * REALTIME_SEND_BUFFER_BYTES is closed with 4008. Bun tells us a publish met backpressure (its return value
 * is ≤ 0), and only then are that key's subscribers checked, so the common case costs nothing per subscriber.
 *
 * Revocation: sockets are indexed by session; `sessions.ended` (logout, password change, suspension) closes
 * them with 4001, and a socket also closes when the access token it connected with expires.
 */
import type { Server } from "bun";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import type { DomainEvent } from "../../events.ts";
import type { TopicLog } from "../../lib/topic-history.ts";
import type { Repos } from "../../store/repos.ts";
import type { Conn } from "./connection.ts";
import { type Delivery, deliveriesFor } from "./payloads.ts";
import { CloseCode, eventMessage, resetMessage, subscribedMessage } from "./protocol.ts";
import { feedKey, type Topic } from "./topics.ts";

export interface SubscribeRequest {
  topic: Topic;
  since?: number;
}

type Keys = Map<string, Set<Conn>>;

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set?.delete(value) && set.size === 0) map.delete(key);
}

const bump = <K>(map: Map<K, number>, key: K, by: number) => {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
};

type HubContext = Pick<AppContext, "config" | "log" | "clock" | "history" | "store">;

export class RealtimeHub {
  readonly history: TopicLog<number | undefined>;
  readonly #conns = new Set<Conn>();
  readonly #perIp = new Map<string, number>();
  readonly #perUser = new Map<number, number>();
  readonly #bySession = new Map<string, Set<Conn>>();
  /** Key → WebSocket subscribers (Bun delivers; this is for backpressure checks) and SSE subscribers. */
  readonly #wsKeys: Keys = new Map();
  readonly #sseKeys: Keys = new Map();
  /** User → their connections subscribed to `feed` (follow changes move their keys). */
  readonly #feeds = new Map<number, Set<Conn>>();
  readonly #servers = new Set<Server<unknown>>();
  /** Deliveries built in a transaction, published after its commit (gone with the event if it rolls back). */
  readonly #pending = new WeakMap<DomainEvent, Delivery[]>();
  /** Counters for /metrics: client messages received, event copies sent, connections dropped as too slow. */
  readonly #counts = { messagesIn: 0, messagesOut: 0, dropped: 0 };
  #timer: Timer | undefined;
  #shuttingDown = false;

  constructor(private readonly ctx: HubContext) {
    this.history = ctx.history;
  }

  /** In the write's unit of work: build the event's deliveries while its rows can still be read. */
  async prepare(tx: Repos, e: DomainEvent): Promise<void> {
    try {
      const deliveries = await deliveriesFor(tx, e);
      if (deliveries.length > 0) this.#pending.set(e, deliveries);
    } catch (err) {
      // A store error goes up as it is: on Postgres a failed statement dooms the unit's transaction (every
      // later statement fails), and a serialization failure must reach the store to be retried. Anything
      // else (a bug in building the deliveries) must not fail the write: log it, publish nothing.
      if (this.ctx.store.normaliseError(err) !== err) throw err;
      this.ctx.log.error({ err, event: e.type }, "realtime: building the event failed");
    }
  }

  /** After the commit, on the writing node: publish what `prepare` built. */
  published(e: DomainEvent): void {
    const deliveries = this.#pending.get(e);
    if (!deliveries) return;
    this.#pending.delete(e);
    for (const d of deliveries) this.publish(d);
  }

  /** After a commit, on every node: sockets of ended sessions close, live feeds follow follows. */
  onEvent(e: DomainEvent): void {
    if (e.type === "sessions.ended") {
      for (const sid of e.sessionIds)
        for (const conn of [...(this.#bySession.get(sid) ?? [])])
          conn.close(CloseCode.sessionEnded, "session ended");
    } else if (e.type === "follow.changed") {
      this.#followChanged(e.followerId, e.followeeId, e.following);
    }
  }

  /** The Bun server(s) the sockets live on, learnt at upgrade (the app does not listen itself). */
  attach(server: Server<unknown>): void {
    this.#servers.add(server);
  }

  /** Refuse a new connection before upgrading when a limit is already reached. */
  checkAdmission(ip: string, userId: number | undefined): AppError | undefined {
    const c = this.ctx.config;
    if (this.#shuttingDown)
      return new AppError(503, { realtime: ["is shutting down"] }, { "retry-after": "5" });
    if (this.#conns.size >= c.REALTIME_MAX_CONNECTIONS)
      return new AppError(503, { realtime: ["is at capacity"] }, { "retry-after": "5" });
    if ((this.#perIp.get(ip) ?? 0) >= c.REALTIME_MAX_CONNECTIONS_PER_IP)
      return new AppError(429, { realtime: ["too many connections from this address"] });
    if (userId !== undefined && (this.#perUser.get(userId) ?? 0) >= c.REALTIME_MAX_CONNECTIONS_PER_USER)
      return new AppError(429, { realtime: ["too many connections for this user"] });
    return undefined;
  }

  /** Count a connection in; false (and nothing counted) when a limit was reached meanwhile. */
  register(conn: Conn): boolean {
    if (this.checkAdmission(conn.ip, conn.viewer?.id)) return false;
    this.#conns.add(conn);
    bump(this.#perIp, conn.ip, 1);
    if (conn.viewer) {
      bump(this.#perUser, conn.viewer.id, 1);
      addTo(this.#bySession, conn.viewer.sessionId, conn);
    }
    this.#startTimer();
    return true;
  }

  /** Forget a closed connection; false if it was not (or no longer) registered. */
  unregister(conn: Conn): boolean {
    if (!this.#conns.delete(conn)) return false;
    for (const name of [...conn.topics]) this.#detach(conn, name);
    bump(this.#perIp, conn.ip, -1);
    if (conn.viewer) {
      bump(this.#perUser, conn.viewer.id, -1);
      removeFrom(this.#bySession, conn.viewer.sessionId, conn);
    }
    if (this.#conns.size === 0) this.#stopTimer();
    return true;
  }

  /**
   * Subscribe to already-resolved topics: resets, then the missed events of all of them in sequence order,
   * then one `subscribed` per topic with the current position, then live events. One synchronous step.
   */
  async subscribe(conn: Conn, requests: SubscribeRequest[]): Promise<void> {
    const followees = requests.some((r) => r.topic.kind === "feed")
      ? new Set(await this.ctx.store.read.profiles.followees(conn.viewer!.id))
      : undefined;
    // From here on, one synchronous step.
    const resets: string[] = [];
    const replay: { seq: number; message: string }[] = [];
    for (const { topic, since } of requests) {
      if (since === undefined) {
        this.history.floor(topic.name); // remember the topic's position from now on
        continue;
      }
      const accept = topic.kind === "feed" ? (authorId?: number) => followees!.has(authorId!) : undefined;
      const resumed = this.history.since(topic.name, since, accept);
      if (!resumed.ok) resets.push(resetMessage(topic.name));
      else replay.push(...resumed.entries);
    }
    replay.sort((a, b) => a.seq - b.seq);
    const seq = this.history.current;
    for (const m of resets) if (!conn.send(m)) return;
    for (const e of replay) if (!conn.send(e.message, e.seq)) return;
    for (const { topic } of requests) if (!conn.send(subscribedMessage(topic.name, seq), seq)) return;
    for (const { topic } of requests) this.#attach(conn, topic, followees);
  }

  /** Leave a topic; false if the connection was not subscribed to it. */
  unsubscribe(conn: Conn, name: string): boolean {
    if (!conn.topics.has(name)) return false;
    this.#detach(conn, name);
    return true;
  }

  /** Close every connection (shutdown: 1001, so clients reconnect elsewhere and resume). */
  closeAll(code: number, reason: string): void {
    // Upgrades still being admitted (awaiting authentication) must not open sockets that stop() would wait on.
    this.#shuttingDown = true;
    for (const conn of [...this.#conns]) conn.close(code, reason);
    this.#stopTimer();
  }

  /** Close a connection that fell too far behind. */
  tooSlow(conn: Conn): void {
    this.#counts.dropped++;
    this.ctx.log.info(
      {
        kind: conn.kind,
        userId: conn.viewer?.id,
        buffered: conn.bufferedAmount(),
        code: CloseCode.slowConsumer,
      },
      "realtime: closing a slow consumer",
    );
    conn.close(CloseCode.slowConsumer, "slow consumer");
  }

  /** False once shutting down. */
  get accepting(): boolean {
    return !this.#shuttingDown;
  }

  stats() {
    return { connections: this.#conns.size, history: this.history.size, ...this.#counts };
  }

  /** Count one message received from a client. */
  countIn(): void {
    this.#counts.messagesIn++;
  }

  #attach(conn: Conn, topic: Topic, followees: Set<number> | undefined): void {
    conn.topics.add(topic.name);
    if (topic.kind !== "feed") {
      this.#subscribeKey(conn, topic.name);
      return;
    }
    conn.feedAuthors = new Set(followees);
    for (const id of conn.feedAuthors) this.#subscribeKey(conn, feedKey(id));
    addTo(this.#feeds, conn.viewer!.id, conn);
  }

  #detach(conn: Conn, name: string): void {
    conn.topics.delete(name);
    if (name !== "feed") {
      this.#unsubscribeKey(conn, name);
      return;
    }
    for (const id of conn.feedAuthors ?? []) this.#unsubscribeKey(conn, feedKey(id));
    conn.feedAuthors = undefined;
    removeFrom(this.#feeds, conn.viewer!.id, conn);
  }

  #subscribeKey(conn: Conn, key: string): void {
    addTo(conn.kind === "ws" ? this.#wsKeys : this.#sseKeys, key, conn);
    conn.subscribeKey(key);
  }

  #unsubscribeKey(conn: Conn, key: string): void {
    removeFrom(conn.kind === "ws" ? this.#wsKeys : this.#sseKeys, key, conn);
    conn.unsubscribeKey(key);
  }

  /** Keep every live feed subscription of the follower in step with who they follow. */
  #followChanged(followerId: number, followeeId: number, following: boolean): void {
    for (const conn of this.#feeds.get(followerId) ?? []) {
      const authors = conn.feedAuthors!;
      if (following === authors.has(followeeId)) continue;
      if (following) {
        authors.add(followeeId);
        this.#subscribeKey(conn, feedKey(followeeId));
      } else {
        authors.delete(followeeId);
        this.#unsubscribeKey(conn, feedKey(followeeId));
      }
    }
  }

  /** Sequence, keep and send one delivery. */
  publish(d: Delivery): void {
    const entry = this.history.append(
      d.topic,
      (seq) => eventMessage(d.topic, seq, d.event, d.data),
      d.authorId,
    );
    const ws = this.#wsKeys.get(d.key);
    const sse = this.#sseKeys.get(d.key);
    this.#counts.messagesOut += (ws?.size ?? 0) + (sse?.size ?? 0);
    if (ws) {
      for (const server of this.#servers) {
        // ≤ 0: some subscriber was backpressured or over the limit (its copy dropped): find and close it.
        if (server.publish(d.key, entry.message, false) <= 0) this.#closeSlow(ws);
      }
    }
    if (sse) for (const conn of [...sse]) conn.send(entry.message, entry.seq);
  }

  #closeSlow(subscribers: Set<Conn>): void {
    const limit = this.ctx.config.REALTIME_SEND_BUFFER_BYTES;
    for (const conn of [...subscribers]) if (conn.bufferedAmount() > limit) this.tooSlow(conn);
  }

  #startTimer(): void {
    if (this.#timer) return;
    const idleMs = this.ctx.config.REALTIME_IDLE_TIMEOUT_SECONDS * 1000;
    const every = Math.min(5_000, Math.max(250, idleMs / 4));
    this.#timer = setInterval(() => this.#sweep(), every);
    this.#timer.unref();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Pings, idle timeouts, heartbeats, token expiry, and history age-out while nothing is published. */
  #sweep(): void {
    const now = performance.now();
    const wall = this.ctx.clock.now();
    for (const conn of [...this.#conns]) {
      const expiresAt = conn.viewer?.expiresAt;
      if (expiresAt !== undefined && wall >= expiresAt) conn.close(CloseCode.sessionEnded, "token expired");
      else conn.tick(now);
    }
    this.history.prune();
  }
}

/**
 * Close every realtime connection of this context: call on shutdown, before `server.stop()` (which waits
 * for open WebSockets forever). 1001 tells clients to reconnect, elsewhere if need be, and resume.
 */
export function closeAllSockets(
  ctx: Pick<AppContext, "realtime">,
  code: number = CloseCode.goingAway,
  reason = "server shutting down",
): void {
  ctx.realtime.closeAll(code, reason);
}

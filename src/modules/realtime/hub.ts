/**
 * The realtime hub of one app context: which connections exist, what they subscribe to, and publishing.
 *
 * Delivery model (the listeners are registered in src/listeners.ts):
 * - Domain events become deliveries inside the write's unit of work (`prepare`, payloads.ts) and are
 *   appended to the topic log after its commit (`published`), so only committed writes are published, in
 *   commit order (the store runs after-commit handlers in commit order).
 * - The topic log (ctx.history: in this process, or shared by a cluster's nodes) gives each delivery its
 *   sequence number, keeps it for resume and hands it back to `deliver` (on every node of a cluster), which
 *   sends it with one `server.publish(key)`: Bun fans it out natively to WebSocket subscribers. SSE
 *   connections are written to from JavaScript.
 * - A subscribe reads what it needs from the store first (a feed's followees), then starts holding the
 *   live messages of its keys, asks the log for one snapshot (the position, and what was missed since
 *   `since`), sends resets, the replay and `subscribed`, then the held messages after the position, and
 *   joins the live stream in the same synchronous step: no gap, no duplicate, whether the log answers at
 *   once or over the network.
 * - A cluster node that lost its feed of messages for a while catches up from the log (or, where the log
 *   no longer has them, sends `reset`: `lost`), and re-checks its sockets' sessions and feeds (`missed`).
 *
 * Limits: connections in total are counted here, per IP and per user by the context's ConnectionCaps (this
 * process's, or the cluster's); a connection whose send queue passes
 * REALTIME_SEND_BUFFER_BYTES is closed with 4008. Bun tells us a publish met backpressure (its return value
 * is ≤ 0), and only then are that key's subscribers checked, so the common case costs nothing per subscriber.
 *
 * Revocation: sockets are indexed by session; `sessions.ended` (logout, password change, suspension) closes
 * them with 4001, and a socket also closes when the access token it connected with expires.
 */
import type { Server } from "bun";
import type { AppContext } from "../../context.ts";
import type { AppError } from "../../errors.ts";
import type { DomainEvent } from "../../events.ts";
import type { ConnectionCaps } from "../../lib/connection-caps.ts";
import type { LogEntry, LogListener, TopicLog } from "../../lib/topic-history.ts";
import type { Repos } from "../../store/repos.ts";
import type { Conn } from "./connection.ts";
import { type Delivery, deliveriesFor } from "./payloads.ts";
import { CloseCode, eventTemplate, resetMessage, subscribedMessage } from "./protocol.ts";
import { ConnectionRegistry } from "./registry.ts";
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

type HubContext = Pick<AppContext, "config" | "log" | "clock" | "history" | "store" | "sessions">;

/** Live messages held for a connection while its subscribe reads the log. */
interface Hold {
  readonly conn: Conn;
  readonly entries: LogEntry<number | undefined>[];
}

/** Chunks of this many session checks at a time when a node re-checks its sockets. */
const RECHECK_BATCH = 50;

export class RealtimeHub implements LogListener<number | undefined> {
  readonly history: TopicLog<number | undefined>;
  readonly #registry: ConnectionRegistry;
  /** Key → WebSocket subscribers (Bun delivers; this is for backpressure checks) and SSE subscribers. */
  readonly #wsKeys: Keys = new Map();
  readonly #sseKeys: Keys = new Map();
  /** User → their connections subscribed to `feed` (follow changes move their keys). */
  readonly #feeds = new Map<number, Set<Conn>>();
  /** Key → subscribes in progress, holding its live messages. */
  readonly #holds = new Map<string, Set<Hold>>();
  readonly #servers = new Set<Server<unknown>>();
  /** Deliveries built in a transaction, published after its commit (gone with the event if it rolls back). */
  readonly #pending = new WeakMap<DomainEvent, Delivery[]>();
  /** Counters for /metrics: client messages received, event copies sent, connections dropped as too slow. */
  readonly #counts = { messagesIn: 0, messagesOut: 0, dropped: 0 };
  #timer: Timer | undefined;

  constructor(
    private readonly ctx: HubContext,
    caps: ConnectionCaps,
  ) {
    this.history = ctx.history;
    this.history.listen(this);
    this.#registry = new ConnectionRegistry(caps, ctx.config.REALTIME_MAX_CONNECTIONS);
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
        for (const conn of this.#registry.ofSession(sid)) conn.close(CloseCode.sessionEnded, "session ended");
    } else if (e.type === "follow.changed") {
      this.#followChanged(e.followerId, e.followeeId, e.following);
    }
  }

  /** The Bun server(s) the sockets live on, learnt at upgrade (the app does not listen itself). */
  attach(server: Server<unknown>): void {
    this.#servers.add(server);
  }

  /** Refuse a new connection before upgrading when a limit is already reached (registry.ts). */
  checkAdmission(
    ip: string,
    userId: number | undefined,
  ): AppError | undefined | Promise<AppError | undefined> {
    return this.#registry.checkAdmission(ip, userId);
  }

  /** Count a connection in; false (and nothing counted) when a limit was reached meanwhile. */
  register(conn: Conn): boolean | Promise<boolean> {
    const registered = this.#registry.register(conn);
    if (!(registered instanceof Promise)) {
      if (registered === true) this.#startTimer();
      return registered;
    }
    return registered.then((ok) => {
      if (ok) this.#startTimer();
      return ok;
    });
  }

  /** Forget a closed connection; false if it was not (or no longer) registered. */
  unregister(conn: Conn): boolean {
    if (this.#registry.has(conn)) for (const name of [...conn.topics]) this.#detach(conn, name);
    if (!this.#registry.remove(conn)) return false;
    if (this.#registry.conns.size === 0) this.#stopTimer();
    return true;
  }

  /**
   * Subscribe to already-resolved topics: resets, then the missed events of all of them in sequence order,
   * then one `subscribed` per topic with the current position, then live events (see the header).
   */
  async subscribe(conn: Conn, requests: SubscribeRequest[]): Promise<void> {
    const followees = requests.some((r) => r.topic.kind === "feed")
      ? new Set(await this.ctx.store.read.profiles.followees(conn.viewer!.id))
      : undefined;
    const keys = requests.flatMap(({ topic }) =>
      topic.kind === "feed" ? [...followees!].map(feedKey) : [topic.name],
    );
    const hold: Hold = { conn, entries: [] };
    for (const key of keys) addTo(this.#holds, key, hold);
    try {
      const snapshot = await this.history.resume(
        requests.map(({ topic, since }) => ({ topic: topic.name, since })),
      );
      // From here on, one synchronous step.
      if (!this.#registry.has(conn)) return;
      const resets: string[] = [];
      const replay: LogEntry<number | undefined>[] = [];
      requests.forEach(({ topic }, i) => {
        const resumed = snapshot.replays[i];
        if (!resumed) return;
        if (!resumed.ok) resets.push(resetMessage(topic.name));
        else if (topic.kind !== "feed") replay.push(...resumed.entries);
        else replay.push(...resumed.entries.filter((e) => followees!.has(e.meta!)));
      });
      replay.sort((a, b) => a.seq - b.seq);
      const seq = snapshot.position;
      for (const m of resets) if (!conn.send(m)) return;
      for (const e of replay) if (!conn.send(e.message, e.seq)) return;
      for (const { topic } of requests) if (!conn.send(subscribedMessage(topic.name, seq), seq)) return;
      for (const e of hold.entries) if (e.seq > seq && !conn.send(e.message, e.seq)) return;
      for (const { topic } of requests) this.#attach(conn, topic, followees);
    } finally {
      for (const key of keys) removeFrom(this.#holds, key, hold);
    }
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
    this.#registry.shuttingDown = true;
    for (const conn of [...this.#registry.conns]) conn.close(code, reason);
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
    return !this.#registry.shuttingDown;
  }

  stats() {
    return {
      connections: this.#registry.conns.size,
      history: this.history.size ?? { messages: 0, bytes: 0, topics: 0 },
      ...this.#counts,
    };
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

  /** Hand one delivery to the topic log, which sequences, keeps and delivers it (`deliver`). */
  publish(d: Delivery): void {
    const appended = this.history.append(d.topic, d.key, eventTemplate(d.topic, d.event, d.data), d.authorId);
    if (appended instanceof Promise)
      appended.catch((err) => this.ctx.log.error({ err }, "realtime: publishing failed"));
  }

  /** A sequenced message from the log: to this node's subscribers of its key, and to subscribes in progress. */
  deliver(entry: LogEntry<number | undefined>): void {
    const ws = this.#wsKeys.get(entry.key);
    const sse = this.#sseKeys.get(entry.key);
    this.#counts.messagesOut += (ws?.size ?? 0) + (sse?.size ?? 0);
    if (ws) {
      for (const server of this.#servers) {
        // ≤ 0: some subscriber was backpressured or over the limit (its copy dropped): find and close it.
        if (server.publish(entry.key, entry.message, false) <= 0) this.#closeSlow(ws);
      }
    }
    if (sse) for (const conn of [...sse]) conn.send(entry.message, entry.seq);
    const holds = this.#holds.get(entry.key);
    if (holds) for (const hold of holds) hold.entries.push(entry);
  }

  /** Topics someone on this node reads (for a cluster node's catch-up). */
  activeTopics(): Set<string> {
    const topics = new Set<string>();
    for (const conn of this.#registry.conns) for (const t of conn.topics) topics.add(t);
    return topics;
  }

  /** The log lost messages of `topic`: its subscribers here start over. */
  lost(topic: string): void {
    for (const conn of [...this.#registry.conns]) if (conn.topics.has(topic)) conn.send(resetMessage(topic));
  }

  /**
   * This node may have missed events (a cluster node that lost the others for a while): close the sockets
   * of sessions that ended meanwhile, and re-read who each live feed follows.
   */
  async missed(): Promise<void> {
    const sessions = this.#registry.sessions();
    for (let i = 0; i < sessions.length; i += RECHECK_BATCH) {
      const batch = sessions.slice(i, i + RECHECK_BATCH);
      const live = await Promise.all(batch.map((sid) => this.ctx.sessions.check(sid)));
      batch.forEach((sid, j) => {
        if (live[j]) return;
        for (const conn of this.#registry.ofSession(sid)) conn.close(CloseCode.sessionEnded, "session ended");
      });
    }
    for (const userId of [...this.#feeds.keys()]) {
      const now = new Set(await this.ctx.store.read.profiles.followees(userId));
      const before = new Set<number>();
      for (const conn of this.#feeds.get(userId) ?? [])
        for (const id of conn.feedAuthors ?? []) before.add(id);
      for (const id of now) if (!before.has(id)) this.#followChanged(userId, id, true);
      for (const id of before) if (!now.has(id)) this.#followChanged(userId, id, false);
    }
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
    for (const conn of [...this.#registry.conns]) {
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

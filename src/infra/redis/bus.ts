/**
 * The cluster's event bus: every node applies every other node's committed events (their `everyNode`
 * handlers: caches, session checks, flags, sockets), and a write is answered only once every live node
 * has applied it. That is what makes a read on node B right after a write acknowledged by node A return
 * the new state.
 *
 * Model:
 * - Membership: a member heartbeats every HEARTBEAT_MS (scripts.ts HEARTBEAT): it stays a member until
 *   TTL_MS after its last heartbeat. A node heartbeats only while its subscriber connection is subscribed,
 *   so a member always receives what is published.
 * - Replication: after a commit, the writer publishes the unit's events and, in the same script, learns which
 *   nodes are members and until when (REPLICATE). It waits for each one's acknowledgement, or until that
 *   member's membership runs out.
 * - Acknowledgements: a node applies events as they arrive (the synchronous part of the handlers at once),
 *   and once the asynchronous part settled too, acknowledges the highest message of each writer on the
 *   writer's own channel (coalesced per turn of the event loop).
 * - Trust (the lease): a node answers from its caches only while it knows it hears every message. Its
 *   heartbeat goes out on its own channel on the same subscriber connection as the events; Redis delivers one
 *   connection's messages in the order it published them, so the echo of a heartbeat sent at time s proves
 *   that everything published before s has arrived. Trust lasts until s + LEASE_MS, and LEASE_MS is less
 *   than TTL_MS: by the time a writer stops waiting for a silent member, that member has stopped trusting
 *   its caches (it bypasses them, src/lib/cache.ts). After a gap (the subscriber connection dropped) the
 *   node runs the event bus's `missed` handlers (caches cleared, sessions and feeds re-checked, flags
 *   re-read) before it trusts anything again.
 * - After a gap, the node drops what it kept, then publishes `resynced` with a Redis time before which it
 *   has applied (or dropped the effects of) everything: writers take it as its acknowledgement of their
 *   messages published before then, so a blip of the subscriber connection costs writes a resync, not a
 *   membership TTL.
 * - Redis unreachable: a write cannot be published. It is answered once TTL_MS have passed since Redis last
 *   answered (every other node has stopped trusting its caches by then), and once Redis answers again every
 *   node is told it missed events. Writes and reads keep working from the database meanwhile.
 *
 * A node that only writes (a CLI command) is a client: it publishes and waits for acknowledgements, but is
 * never a member and never trusts a cache.
 */
import type { Logger } from "../../lib/logger.ts";
import type { RedisLink } from "./link.ts";
import { HEARTBEAT, LEAVE, REPLICATE } from "./scripts.ts";

/** How often a member heartbeats. */
export const HEARTBEAT_MS = 500;
/** A member stays one this long after its last heartbeat. */
export const TTL_MS = 2_000;
/** A node trusts its caches this long after sending a heartbeat whose echo it received (< TTL_MS). */
export const LEASE_MS = 1_500;

export interface BusOptions<E> {
  nodeId: string;
  link: RedisLink;
  prefix: string;
  log: Logger;
  /** A member applies and acknowledges others' events; a client only publishes its own. */
  member: boolean;
  /** Apply events another node committed (the event bus's `received`). */
  apply(events: E[]): void | Promise<void>;
  /** This node may have missed events (the event bus's `missed`). */
  missed(): Promise<void>;
  /** Another node asks this one's job workers to look for work. */
  wake(): void;
}

interface Waiting {
  /** When Redis published the message (its clock, ms). */
  publishedAt: number;
  /** Node → local deadline (performance.now()). */
  nodes: Map<string, number>;
  resolve(): void;
  timer: Timer | undefined;
}

type Message<E> =
  | { n: string; i: number; e: E[] }
  | { n: string; c: "missed" | "wake" | "resynced"; t?: number };

export class ClusterBus<E> {
  readonly nodeId: string;
  readonly eventsChannel: string;
  readonly nodeChannel: string;
  readonly #o: BusOptions<E>;
  readonly #nodesKey: string;
  readonly #countsKey: string;
  #sent = 0;
  readonly #waiting = new Map<number, Waiting>();
  /** Highest message id each node acknowledged (an acknowledgement may beat the publish's own reply). */
  readonly #acked = new Map<string, number>();
  /** The highest heartbeat whose echo came back. */
  #lastEchoed = 0;
  /** Heartbeat number → who waits for its echo. */
  readonly #echoWaiters = new Map<number, () => void>();
  /** Acknowledgements to send: writer → highest message id applied. */
  readonly #toAck = new Map<string, number>();
  #ackScheduled = false;
  /** Async parts of applied events, in arrival order. */
  #applied: Promise<unknown> = Promise.resolve();
  #beat = 0;
  readonly #beatsSent = new Map<number, number>();
  #lastEchoAt = Number.NEGATIVE_INFINITY;
  #subscribedAt = Number.NEGATIVE_INFINITY;
  #lastBeatOkAt = Number.NEGATIVE_INFINITY;
  #trustedUntil = 0;
  /** Subscribed and caught up: an echo may extend trust. */
  #synced = false;
  #everSynced = false;
  /** Events could not be published: every node must be told it missed some. */
  #owesMissed = false;
  #members = 0;
  #timer: Timer | undefined;
  #lastWake = 0;
  #wakeTimer: Timer | undefined;
  readonly stats = { replicated: 0, ackTimeouts: 0, undelivered: 0, gaps: 0 };

  constructor(options: BusOptions<E>) {
    this.#o = options;
    this.nodeId = options.nodeId;
    this.eventsChannel = `${options.prefix}events`;
    this.nodeChannel = `${options.prefix}node:${this.nodeId}`;
    this.#nodesKey = `${options.prefix}nodes`;
    this.#countsKey = `${options.prefix}conns:${this.nodeId}`;
  }

  /** This node's caches may answer: it has heard everything published until less than LEASE_MS ago. */
  trusted(): boolean {
    return performance.now() < this.#trustedUntil;
  }

  get members(): number {
    return this.#members;
  }

  /** Channels the subscriber connection must hear. */
  get channels(): string[] {
    return this.#o.member ? [this.eventsChannel, this.nodeChannel] : [this.nodeChannel];
  }

  start(): void {
    if (!this.#o.member) return;
    this.#timer = setInterval(() => void this.#heartbeat(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Publish committed events; settles once every member applied them, or stopped being one. */
  async replicate(events: readonly E[]): Promise<void> {
    const id = ++this.#sent;
    const payload = JSON.stringify({ n: this.nodeId, i: id, e: events });
    let reply: string[];
    try {
      reply = await this.#o.link.eval<string[]>(REPLICATE, [this.#nodesKey], [this.eventsChannel, payload]);
    } catch {
      this.stats.undelivered++;
      this.#owesMissed = true;
      return this.#outage();
    }
    this.stats.replicated++;
    const at = performance.now();
    const redisNow = Number(reply[0]);
    const nodes = new Map<string, number>();
    for (let i = 1; i < reply.length; i += 2) {
      const node = reply[i]!;
      if (node === this.nodeId || (this.#acked.get(node) ?? 0) >= id) continue;
      nodes.set(node, at + (Number(reply[i + 1]) - redisNow));
    }
    if (nodes.size === 0) return;
    return new Promise<void>((resolve) => {
      const waiting: Waiting = { publishedAt: redisNow, nodes, resolve, timer: undefined };
      this.#waiting.set(id, waiting);
      this.#arm(id, waiting);
    });
  }

  /** Redis did not take the events: answer once every other node has surely stopped trusting its caches. */
  #outage(): Promise<void> {
    const last = this.#o.link.lastOk;
    const wait = last === Number.NEGATIVE_INFINITY ? TTL_MS : last + TTL_MS - performance.now();
    return wait > 0 ? Bun.sleep(wait) : Promise.resolve();
  }

  /** Stop waiting for members whose membership ran out; wake again at the next deadline. */
  #arm(id: number, waiting: Waiting): void {
    const now = performance.now();
    for (const [node, deadline] of waiting.nodes) {
      if (deadline > now) continue;
      waiting.nodes.delete(node);
      this.stats.ackTimeouts++;
      this.#o.log.warn({ node }, "cluster: a node did not acknowledge a write before its membership ran out");
    }
    if (waiting.nodes.size === 0) {
      this.#settle(id, waiting);
      return;
    }
    const next = Math.min(...waiting.nodes.values());
    waiting.timer = setTimeout(() => this.#arm(id, waiting), Math.max(1, next - now));
  }

  #settle(id: number, waiting: Waiting): void {
    clearTimeout(waiting.timer);
    this.#waiting.delete(id);
    waiting.resolve();
  }

  /** A message on one of this node's channels. */
  received(channel: string, text: string): void {
    if (channel === this.nodeChannel) {
      this.#onNodeMessage(text);
      return;
    }
    let message: Message<E>;
    try {
      message = JSON.parse(text) as Message<E>;
    } catch {
      return;
    }
    if (message.n === this.nodeId) return;
    if ("c" in message) {
      if (message.c === "wake") this.#o.wake();
      else if (message.c === "missed") void this.#resync("another node could not publish its events");
      else if (message.c === "resynced") this.#resynced(message.n, message.t ?? 0);
      return;
    }
    const pending = this.#o.apply(message.e);
    const { n, i } = message;
    if (pending instanceof Promise) {
      this.#applied = Promise.all([this.#applied, pending]);
      void this.#applied.then(() => this.#ack(n, i));
    } else this.#ack(n, i);
  }

  #onNodeMessage(text: string): void {
    const [kind, a, b] = text.split(" ");
    if (kind === "h") {
      const sentAt = this.#beatsSent.get(Number(a));
      if (sentAt === undefined) return;
      for (const k of this.#beatsSent.keys()) if (k <= Number(a)) this.#beatsSent.delete(k);
      this.#lastEchoAt = performance.now();
      this.#lastEchoed = Math.max(this.#lastEchoed, Number(a));
      for (const [k, wake] of this.#echoWaiters) {
        if (k > Number(a)) continue;
        this.#echoWaiters.delete(k);
        wake();
      }
      if (this.#synced) this.#trustedUntil = Math.max(this.#trustedUntil, sentAt + LEASE_MS);
    } else if (kind === "a" && a) this.#acknowledged(a, Number(b));
  }

  /**
   * `node` came back from a gap: it dropped what it kept, and has applied everything published before
   * Redis time `at`. Our messages published before then need no acknowledgement of it.
   */
  #resynced(node: string, at: number): void {
    for (const [id, waiting] of this.#waiting) {
      if (waiting.publishedAt >= at) break;
      if (waiting.nodes.delete(node) && waiting.nodes.size === 0) this.#settle(id, waiting);
    }
  }

  /** `node` applied our messages up to `upTo`. */
  #acknowledged(node: string, upTo: number): void {
    if (upTo > (this.#acked.get(node) ?? 0)) this.#acked.set(node, upTo);
    for (const [id, waiting] of this.#waiting) {
      if (id > upTo) break;
      if (waiting.nodes.delete(node) && waiting.nodes.size === 0) this.#settle(id, waiting);
    }
  }

  #ack(writer: string, id: number): void {
    if (id <= (this.#toAck.get(writer) ?? 0)) return;
    this.#toAck.set(writer, id);
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setImmediate(() => {
      this.#ackScheduled = false;
      const link = this.#o.link;
      for (const [w, upTo] of this.#toAck) {
        link.command("PUBLISH", [`${this.#o.prefix}node:${w}`, `a ${this.nodeId} ${upTo}`]).catch(() => {});
      }
      this.#toAck.clear();
    });
  }

  /**
   * Ask the other nodes' job workers to look for work: at most one message every 50 ms, and a wake asked for
   * within 50 ms of the last is sent when they are up, never dropped (the job it is for would otherwise wait
   * for the workers' next poll).
   */
  wakeOthers(): void {
    if (this.#wakeTimer) return;
    const wait = 50 - (performance.now() - this.#lastWake);
    if (wait > 0) {
      this.#wakeTimer = setTimeout(() => {
        this.#wakeTimer = undefined;
        this.wakeOthers();
      }, wait);
      this.#wakeTimer.unref?.();
      return;
    }
    this.#lastWake = performance.now();
    const message = JSON.stringify({ n: this.nodeId, c: "wake" });
    this.#o.link.command("PUBLISH", [this.eventsChannel, message]).catch(() => {});
  }

  /** The subscriber connection dropped: trust nothing until subscribed and caught up. */
  lostFeed(): void {
    this.#synced = false;
    this.#trustedUntil = 0;
    this.stats.gaps++;
  }

  /**
   * Subscribed (again). After a gap: drop or re-read what may have been missed (everything published before
   * the new subscription), then tell the writers (`resynced`), once a heartbeat's echo proves that what was
   * published after it has arrived and been applied, so that they stop waiting for us. Then trust echoes.
   */
  async subscribed(): Promise<void> {
    const gap = this.#everSynced;
    if (gap) await this.#resync("this node lost its subscriber connection");
    this.#everSynced = true;
    this.#synced = true;
    this.#subscribedAt = performance.now();
    if (!this.#o.member) return;
    const beat = await this.#heartbeat();
    if (!gap || !beat) return;
    // The echo may have come back before the script's own reply did.
    const echoed =
      this.#lastEchoed >= beat.beat ||
      (await Promise.race([
        new Promise<boolean>((resolve) => this.#echoWaiters.set(beat.beat, () => resolve(true))),
        Bun.sleep(LEASE_MS).then(() => false),
      ]));
    this.#echoWaiters.delete(beat.beat);
    if (!echoed) return;
    await this.#applied;
    const message = JSON.stringify({ n: this.nodeId, c: "resynced", t: beat.at });
    await this.#o.link.command("PUBLISH", [this.eventsChannel, message]).catch(() => {});
  }

  async #resync(reason: string): Promise<void> {
    this.#trustedUntil = 0;
    this.#o.log.warn({ reason }, "cluster: events may have been missed; dropping caches and re-checking");
    await this.#o.missed();
  }

  /** One heartbeat; its number and the Redis time it ran at, or undefined if it could not be sent. */
  async #heartbeat(): Promise<{ beat: number; at: number } | undefined> {
    const link = this.#o.link;
    if (!link.subscribed) return undefined;
    // Heartbeats went out for a lease's time and none came back: the subscriber connection no longer
    // delivers (a half-open socket). Start over. (While heartbeats cannot go out, silence says nothing.)
    if (this.#lastBeatOkAt - Math.max(this.#lastEchoAt, this.#subscribedAt) > LEASE_MS) {
      this.#o.log.warn("cluster: no heartbeat came back; reconnecting the subscriber");
      link.resubscribe();
      return undefined;
    }
    const beat = ++this.#beat;
    this.#beatsSent.set(beat, performance.now());
    this.#beatsSent.delete(beat - 100); // echoes that never came
    let at: number;
    try {
      const [members, now] = await link.eval<[number, string]>(
        HEARTBEAT,
        [this.#nodesKey, this.#countsKey],
        [this.nodeId, String(TTL_MS), this.nodeChannel, `h ${beat}`],
      );
      this.#members = members;
      at = Number(now);
      this.#lastBeatOkAt = performance.now();
    } catch {
      return undefined;
    }
    if (this.#owesMissed) await this.#tellMissed();
    return { beat, at };
  }

  /** Events of this node were not published: every node drops or re-reads what they would have changed. */
  async #tellMissed(): Promise<void> {
    this.#owesMissed = false;
    const message = JSON.stringify({ n: this.nodeId, c: "missed" });
    await this.#o.link.command("PUBLISH", [this.eventsChannel, message]).catch(() => {
      this.#owesMissed = true;
    });
  }

  /** Leave the cluster (graceful shutdown): writers stop waiting for this node at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    for (const [id, waiting] of this.#waiting) this.#settle(id, waiting);
    if (this.#owesMissed) await this.#tellMissed();
    if (!this.#o.member) return;
    await this.#o.link.eval(LEAVE, [this.#nodesKey, this.#countsKey], [this.nodeId]).catch(() => {});
  }
}

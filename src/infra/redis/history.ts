/**
 * Realtime topics shared by every node (a TopicLog, src/lib/topic-history.ts): one position counter, one
 * stream per topic (`<prefix>hist:<topic>`, ids `<seq>-0`, capped at about REALTIME_HISTORY_SIZE entries
 * and expiring REALTIME_HISTORY_TTL_SECONDS after its last message), and one channel that carries every
 * message to every node, this one included.
 *
 * - `append` is one script (scripts.ts APPEND): the position, the stream entry and the publish happen in one
 *   atomic step, so every node receives a topic's messages in position order, which is commit order for
 *   the writes of one node (their appends leave in commit order on one connection).
 * - `resume` is one script too (RESUME): the position now and what each topic missed, as one snapshot. A
 *   client may resume on any node. Positions older than the TTL, trimmed away, or from before Redis lost
 *   its data answer `reset`.
 * - Gaps: when the subscriber connection drops, this node misses messages. Once subscribed again it holds
 *   new messages, reads what its subscribers' topics missed since the last position it delivered, delivers
 *   that, then the held messages: its sockets see no gap. A topic whose missed messages are gone gets
 *   `reset`. Subscribes wait for this catch-up (they would otherwise race it).
 * - Appends that fail (Redis unreachable) are not kept: the write is committed, its live update is lost.
 *   The topics are remembered, and once Redis answers again every node resets their subscribers, so no
 *   client silently misses an event.
 *
 * Memory in Redis: per topic at most ~REALTIME_HISTORY_SIZE messages, all gone TTL after the topic's last
 * message; REALTIME_HISTORY_MAX_BYTES bounds the in-process history only (size Redis with `maxmemory`).
 */
import { AppError } from "../../errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type {
  LogEntry,
  LogListener,
  MessageTemplate,
  Replay,
  Snapshot,
  TopicLog,
} from "../../lib/topic-history.ts";
import type { RedisLink } from "./link.ts";
import { APPEND, RESUME } from "./scripts.ts";

type Meta = number | undefined;

export interface RedisHistoryOptions {
  link: RedisLink;
  prefix: string;
  perTopic: number;
  ttlMs: number;
  log: Logger;
  /** How long a subscribe waits for this node to catch up after a gap before it is refused. */
  syncWaitMs?: number;
}

/** Messages held while catching up, at most; past it the held ones are dropped and every subscriber is reset. */
const MAX_HELD = 10_000;
const CATCH_UP_RETRY_MS = 500;
/** Topics lost while Redis was unreachable, reported by name up to this many (then: every topic). */
const MAX_LOST_TOPICS = 1_000;

/** A published message: `<seq>\n<header JSON>\n<message>`. */
function parseWire(text: string): LogEntry<Meta> | undefined {
  const a = text.indexOf("\n");
  const b = text.indexOf("\n", a + 1);
  if (a < 0 || b < 0) return undefined;
  return entryOf(Number(text.slice(0, a)), text.slice(a + 1, b), text.slice(b + 1));
}

function entryOf(seq: number, header: string, message: string): LogEntry<Meta> {
  const h = JSON.parse(header) as { t: string; k: string; a?: number };
  return { seq, topic: h.t, key: h.k, message, meta: h.a };
}

/** An XRANGE entry: [id, [field, value, …]]. */
function fromStream([id, fields]: [string, string[]]): LogEntry<Meta> {
  const get = (name: string) => fields[fields.indexOf(name) + 1]!;
  return entryOf(Number(id.slice(0, id.indexOf("-"))), get("h"), get("m"));
}

export class RedisTopicLog implements TopicLog<Meta> {
  readonly channel: string;
  readonly #o: RedisHistoryOptions;
  #listener: LogListener<Meta> | undefined;
  /** The highest position delivered here: a catch-up starts after it. */
  #last = 0;
  /** Messages held while catching up; undefined when live. */
  #held: LogEntry<Meta>[] | undefined = [];
  #overflowed = false;
  #synced: Promise<void>;
  #markSynced!: () => void;
  /** Topics whose appends failed, to be reset once Redis answers; "all" past MAX_LOST_TOPICS. */
  #lost: Set<string> | "all" | undefined;

  constructor(options: RedisHistoryOptions) {
    this.#o = options;
    this.channel = `${options.prefix}rt`;
    this.#synced = this.#unsynced();
  }

  #unsynced(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#markSynced = resolve;
    });
  }

  listen(listener: LogListener<Meta>): void {
    this.#listener = listener;
  }

  get size(): undefined {
    return undefined;
  }

  prune(): void {} // Redis trims and expires on its own

  #keys(topics: readonly string[]): string[] {
    return topics.map((t) => `${this.#o.prefix}hist:${t}`);
  }

  async append(topic: string, key: string, message: MessageTemplate, meta: Meta): Promise<void> {
    const header = JSON.stringify({ t: topic, k: key, ...(meta !== undefined && { a: meta }) });
    const p = this.#o.prefix;
    try {
      await this.#o.link.eval(
        APPEND,
        [`${p}seq`, ...this.#keys([topic]), `${p}marks`],
        [
          String(this.#o.perTopic),
          String(this.#o.ttlMs),
          message.before,
          message.after,
          header,
          this.channel,
        ],
      );
    } catch {
      // Unreachable, or refusing (OOM under maxmemory, MISCONF, READONLY): either way the message did not go
      // out, so its topic's subscribers get a reset rather than a silent gap.
      if (this.#lost !== "all") {
        this.#lost ??= new Set();
        this.#lost.add(topic);
        if (this.#lost.size > MAX_LOST_TOPICS) this.#lost = "all";
      }
    }
  }

  async resume(requests: readonly { topic: string; since?: number }[]): Promise<Snapshot<Meta>> {
    await this.#whenSynced();
    const reply = await this.#read(
      requests.map((r) => r.topic),
      requests.map((r) => r.since),
    );
    return reply;
  }

  /** One RESUME: the position now and, per topic with a `since`, the replay or not ok. */
  async #read(topics: readonly string[], since: readonly (number | undefined)[]): Promise<Snapshot<Meta>> {
    const p = this.#o.prefix;
    let reply: unknown[];
    try {
      reply = await this.#o.link.eval<unknown[]>(
        RESUME,
        [`${p}seq`, `${p}marks`, ...this.#keys(topics)],
        [String(this.#o.ttlMs), ...since.map((s) => (s === undefined ? "" : String(s)))],
      );
    } catch {
      // Unreachable or refusing (OOM, MISCONF, READONLY): the client retries, never a 500.
      throw new AppError(503, { realtime: ["is unavailable, retry shortly"] }, { "retry-after": "2" });
    }
    const replays = reply.slice(1).map((r): Replay<Meta> | undefined => {
      if (r === null) return undefined;
      if (r === "reset") return { ok: false };
      return { ok: true, entries: (r as [string, string[]][]).map(fromStream) };
    });
    return { position: Number(reply[0]), replays };
  }

  async #whenSynced(): Promise<void> {
    if (this.#held === undefined) return;
    let timer: Timer | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#o.syncWaitMs ?? 5_000);
    });
    const ok = await Promise.race([this.#synced.then(() => true), waited]);
    clearTimeout(timer);
    if (!ok)
      throw new AppError(503, { realtime: ["is reconnecting, retry shortly"] }, { "retry-after": "2" });
  }

  /** A message from the channel: delivered now, or held while catching up. */
  received(text: string): void {
    if (text.startsWith("lost ")) {
      this.#lostElsewhere(text.slice(5));
      return;
    }
    const entry = parseWire(text);
    if (!entry) return;
    if (!this.#held) this.#deliver(entry);
    else if (this.#held.length < MAX_HELD) this.#held.push(entry);
    else {
      // Too much to hold: drop it, and reset every subscriber here once caught up (they refetch).
      this.#held = [entry];
      this.#overflowed = true;
    }
  }

  #deliver(entry: LogEntry<Meta>): void {
    if (entry.seq <= this.#last) return;
    this.#last = entry.seq;
    this.#listener?.deliver(entry);
  }

  /** The subscriber connection dropped: hold (nothing comes) and make subscribes wait for the catch-up. */
  lostFeed(): void {
    if (this.#held) return;
    this.#held = [];
    this.#synced = this.#unsynced();
  }

  /** Subscribed (again): catch this node's subscribers up from the last position delivered, then go live. */
  async subscribed(): Promise<void> {
    this.#held ??= [];
    try {
      const topics = [...(this.#listener?.activeTopics() ?? [])];
      // Held messages were dropped (a catch-up that took too long): every subscriber here starts over.
      const from = this.#overflowed ? 0 : this.#last;
      const snapshot = await this.#read(
        topics,
        topics.map(() => (from === 0 ? undefined : from)),
      );
      const missed: LogEntry<Meta>[] = [];
      snapshot.replays.forEach((r, i) => {
        if (r?.ok) missed.push(...r.entries);
        else if (r) this.#listener?.lost(topics[i]!);
      });
      missed.sort((a, b) => a.seq - b.seq);
      for (const e of missed) this.#deliver(e);
      if (this.#overflowed) for (const topic of topics) this.#listener?.lost(topic);
      this.#overflowed = false;
      this.#last = Math.max(this.#last, snapshot.position);
    } catch (err) {
      // Redis does not answer: try again while subscribed (a new subscription starts over anyway).
      this.#o.log.warn({ err }, "realtime: catching up after a gap failed; retrying");
      setTimeout(() => {
        if (this.#o.link.subscribed && this.#held) void this.subscribed();
      }, CATCH_UP_RETRY_MS).unref();
      return;
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const e of held) this.#deliver(e);
    this.#markSynced();
    await this.#reportLost();
  }

  /** Tell every node which topics lost messages here while Redis was unreachable. */
  async #reportLost(): Promise<void> {
    const lost = this.#lost;
    if (!lost) return;
    this.#lost = undefined;
    const list = lost === "all" ? "*" : JSON.stringify([...lost]);
    try {
      await this.#o.link.command("PUBLISH", [this.channel, `lost ${list}`]);
    } catch {
      this.#lost = lost; // next time
    }
  }

  /** Another node (or this one) lost messages of these topics: their subscribers here start over. */
  #lostElsewhere(list: string): void {
    const topics =
      list === "*" ? [...(this.#listener?.activeTopics() ?? [])] : (JSON.parse(list) as string[]);
    for (const topic of topics) this.#listener?.lost(topic);
  }

  /** Redis answers commands again: report lost topics now (the feed may never have dropped). */
  reachable(): void {
    if (this.#lost && this.#held === undefined) void this.#reportLost();
  }
}

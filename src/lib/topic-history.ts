/**
 * Bounded per-topic history for resumable pub/sub: every published message gets a sequence number, and the
 * recent ones are kept so that a client reconnecting with "I have seen up to N" gets exactly what it missed,
 * or is told that it cannot (reset).
 *
 * Sequence numbers come from one counter shared by all topics, so a topic's numbers only grow (they are not
 * contiguous: topics interleave) and one number can mark a position across several topics at once (the SSE
 * `Last-Event-ID`). The counter starts at `startSeq` (the caller passes a time-derived value), so positions
 * handed out before a restart are lower than every position after it and are answered with a reset, never
 * with unrelated events that happen to reuse their numbers.
 *
 * Each topic has a `floor`: the highest sequence number that may have been dropped. A resume from `since`
 * is possible exactly when `floor <= since <= current`. History is bounded three ways: per topic (count),
 * by age, and by total bytes over all topics (oldest first, through one global FIFO). Topics with nothing
 * kept remember only their floor, in an LRU; a topic that is in neither place has as floor the highest floor
 * the LRU ever evicted (nothing was ever dropped for a topic never seen), which is conservative for a topic
 * the LRU forgot (a reset too many), never wrong.
 */
import Denque from "denque";
import { LRUCache } from "lru-cache";

export interface HistoryOptions {
  /** Messages kept per topic. */
  perTopic: number;
  /** Messages older than this are dropped. */
  maxAgeMs: number;
  /** Total size of kept messages over all topics (UTF-16 length as a cheap byte estimate). */
  maxBytes: number;
  /** Quiet topics whose floor is remembered. */
  maxQuietTopics: number;
  /** First sequence number minus one. */
  startSeq: number;
  now(): number;
}

export interface HistoryEntry<M> {
  readonly seq: number;
  readonly at: number;
  readonly message: string;
  readonly meta: M;
  readonly topic: string;
  /** Dropped from its topic already (by the per-topic bound); the global FIFO skips it. */
  dead: boolean;
}

interface TopicState<M> {
  floor: number;
  entries: Denque<HistoryEntry<M>>;
}

export type Resume<M> = { ok: true; entries: HistoryEntry<M>[] } | { ok: false };

/**
 * Sequence numbers and recent messages per topic, for resumable pub/sub. An interface so that a cluster can
 * keep them where every node sees the same numbers; TopicHistory below keeps them in this process.
 */
export interface TopicLog<M> {
  /** The last sequence number handed out: the position "now". */
  readonly current: number;
  readonly size: { messages: number; bytes: number; topics: number };
  append(topic: string, build: (seq: number) => string, meta: M): HistoryEntry<M>;
  since(topic: string, since: number, accept?: (meta: M) => boolean): Resume<M>;
  floor(topic: string): number;
  prune(): void;
}

export class TopicHistory<M = undefined> implements TopicLog<M> {
  #seq: number;
  #bytes = 0;
  readonly #topics = new Map<string, TopicState<M>>();
  readonly #fifo = new Denque<HistoryEntry<M>>();
  #quietTopics: LRUCache<string, number> | undefined;
  /** The floor of every topic not otherwise known: the highest floor the quiet LRU has forgotten. */
  #forgotten: number;

  constructor(private readonly options: HistoryOptions) {
    this.#seq = options.startSeq;
    this.#forgotten = options.startSeq;
  }

  /**
   * Built at first use: lru-cache allocates its bookkeeping for all `maxQuietTopics` up front (~20 ms and a
   * few MB for 100,000), which every start paid before any client subscribed.
   */
  get #quiet(): LRUCache<string, number> {
    this.#quietTopics ??= new LRUCache({
      max: this.options.maxQuietTopics,
      dispose: (floor, _topic, reason) => {
        if (reason === "evict") this.#forgotten = Math.max(this.#forgotten, floor);
      },
    });
    return this.#quietTopics;
  }

  /** The last sequence number handed out: the position "now". */
  get current(): number {
    return this.#seq;
  }

  /** Messages and bytes kept, for metrics and tests. */
  get size(): { messages: number; bytes: number; topics: number } {
    let messages = 0;
    for (const t of this.#topics.values()) messages += t.entries.length;
    return { messages, bytes: this.#bytes, topics: this.#topics.size };
  }

  /**
   * Allocate the next sequence number and keep `build(seq)` under `topic`. Returns the entry; its message
   * is what subscribers are sent.
   */
  append(topic: string, build: (seq: number) => string, meta: M): HistoryEntry<M> {
    const seq = ++this.#seq;
    let state = this.#topics.get(topic);
    if (!state) {
      state = { floor: this.#quiet.get(topic) ?? this.#forgotten, entries: new Denque() };
      this.#quiet.delete(topic);
      this.#topics.set(topic, state);
    }
    const entry: HistoryEntry<M> = {
      seq,
      at: this.options.now(),
      message: build(seq),
      meta,
      topic,
      dead: false,
    };
    state.entries.push(entry);
    this.#fifo.push(entry);
    this.#bytes += entry.message.length;
    if (state.entries.length > this.options.perTopic) this.#drop(state, true);
    this.prune();
    return entry;
  }

  /**
   * The messages of `topic` after `since` (those whose `accept(meta)` holds), oldest first; or not ok when
   * some of them are no longer kept, or `since` is not a position this history handed out.
   */
  since(topic: string, since: number, accept?: (meta: M) => boolean): Resume<M> {
    this.prune();
    const floor = this.floor(topic);
    if (since < floor || since > this.#seq) return { ok: false };
    const entries = this.#topics.get(topic)?.entries;
    const out: HistoryEntry<M>[] = [];
    if (!entries) return { ok: true, entries: out };
    // Sequence numbers grow along the deque: binary-search the first one after `since`.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries.peekAt(mid)!.seq <= since) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < entries.length; i++) {
      const e = entries.peekAt(i)!;
      if (!accept || accept(e.meta)) out.push(e);
    }
    return { ok: true, entries: out };
  }

  /** The highest sequence number of `topic` that may have been dropped (remembered from now on). */
  floor(topic: string): number {
    const state = this.#topics.get(topic);
    if (state) return state.floor;
    let floor = this.#quiet.get(topic);
    if (floor === undefined) {
      floor = this.#forgotten;
      this.#quiet.set(topic, floor);
    }
    return floor;
  }

  /** Drop what is too old or over the byte budget, oldest first over all topics. */
  prune(): void {
    const cutoff = this.options.now() - this.options.maxAgeMs;
    for (;;) {
      const head = this.#fifo.peekFront();
      if (!head) return;
      if (!head.dead && head.at > cutoff && this.#bytes <= this.options.maxBytes) return;
      this.#fifo.shift();
      if (head.dead) continue;
      // The globally oldest live entry is also the oldest of its topic.
      const state = this.#topics.get(head.topic)!;
      this.#drop(state, false);
    }
  }

  /** Drop the oldest entry of a topic; `early` marks it dead for the FIFO, which still holds it. */
  #drop(state: TopicState<M>, early: boolean): void {
    const entry = state.entries.shift()!;
    entry.dead = early;
    this.#bytes -= entry.message.length;
    state.floor = entry.seq;
    if (state.entries.length === 0) {
      this.#topics.delete(entry.topic);
      this.#quiet.set(entry.topic, state.floor);
    }
  }
}

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

/** A topic's missed messages, or not ok: some are no longer kept, or `since` is not a position handed out. */
export type Resume<M> = { ok: true; entries: HistoryEntry<M>[] } | { ok: false };

/** One sequenced message as it is delivered: the topic it belongs to and the pub/sub key it travels on. */
export interface LogEntry<M> {
  readonly seq: number;
  readonly topic: string;
  readonly key: string;
  readonly message: string;
  readonly meta: M;
}

/**
 * A message whose sequence number is only known once it is sequenced: `before + seq + after`. A template
 * rather than a function, so that a shared log (a script on another server) can build it where the number
 * is allocated.
 */
export interface MessageTemplate {
  before: string;
  after: string;
}

export type Replay<M> = { ok: true; entries: LogEntry<M>[] } | { ok: false };

/** What a subscribe needs, read as one snapshot: the position now, and for each `since` what was missed. */
export interface Snapshot<M> {
  position: number;
  /** One per request, in order: undefined where the request had no `since`. */
  replays: (Replay<M> | undefined)[];
}

/** Who receives the log's messages: the realtime hub of this node. */
export interface LogListener<M> {
  /** One message, in sequence order (on every node of a cluster, this one included). */
  deliver(entry: LogEntry<M>): void;
  /** Topics this node's subscribers read (a cluster node catches them up after losing its feed). */
  activeTopics(): Iterable<string>;
  /** Messages of `topic` were lost for good: its subscribers must start over (`reset`). */
  lost(topic: string): void;
}

/**
 * Sequence numbers, recent messages and delivery, for resumable pub/sub. An interface, so that a cluster can
 * keep them where every node sees the same numbers (src/infra/redis/history.ts) while a single process
 * keeps them in memory (MemoryTopicLog below). Either may answer synchronously or with a promise.
 *
 * Contract: `append` sequences a message and has it delivered to every listener, in sequence order, once;
 * `resume` reads the position and the missed messages as one snapshot, so that a subscriber that starts
 * holding live messages before it asks, and drops the held ones at or below `position`, sees no gap and no
 * duplicate.
 */
export interface TopicLog<M> {
  listen(listener: LogListener<M>): void;
  append(topic: string, key: string, message: MessageTemplate, meta: M): void | Promise<void>;
  resume(requests: readonly { topic: string; since?: number }[]): Snapshot<M> | Promise<Snapshot<M>>;
  /** Age-out while nothing is appended (called by the hub's timer). */
  prune(): void;
  /** What is kept in this process, for metrics; undefined when the log lives elsewhere. */
  readonly size: { messages: number; bytes: number; topics: number } | undefined;
}

/** The in-process TopicLog: a TopicHistory, delivering synchronously as it appends. */
export class MemoryTopicLog<M> implements TopicLog<M> {
  readonly #history: TopicHistory<{ key: string; meta: M }>;
  #listener: LogListener<M> | undefined;

  constructor(options: HistoryOptions) {
    this.#history = new TopicHistory(options);
  }

  listen(listener: LogListener<M>): void {
    this.#listener = listener;
  }

  append(topic: string, key: string, message: MessageTemplate, meta: M): void {
    const entry = this.#history.append(topic, (seq) => message.before + seq + message.after, { key, meta });
    this.#listener?.deliver(toLogEntry(entry));
  }

  resume(requests: readonly { topic: string; since?: number }[]): Snapshot<M> {
    const replays = requests.map(({ topic, since }): Replay<M> | undefined => {
      if (since === undefined) {
        this.#history.floor(topic); // remember the topic's position from now on
        return undefined;
      }
      const resumed = this.#history.since(topic, since);
      return resumed.ok ? { ok: true, entries: resumed.entries.map(toLogEntry) } : { ok: false };
    });
    return { position: this.#history.current, replays };
  }

  prune(): void {
    this.#history.prune();
  }

  get size() {
    return this.#history.size;
  }
}

const toLogEntry = <M>(e: HistoryEntry<{ key: string; meta: M }>): LogEntry<M> => ({
  seq: e.seq,
  topic: e.topic,
  key: e.meta.key,
  message: e.message,
  meta: e.meta.meta,
});

export class TopicHistory<M = undefined> {
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

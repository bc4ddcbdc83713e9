/**
 * An event bus with transaction semantics, for a store that runs units of work (src/store/store.ts).
 *
 * A handler may react at three points:
 * - `inTransaction(tx, event)`: inside the unit that emitted the event, on the node that runs it. What it
 *   writes through `tx` commits or rolls back with the unit (an outbox job); if it throws, the unit fails.
 * - `afterCommit(event)`: once the unit committed, on that node only, before its answer is sent. For what
 *   must happen once per write in a cluster (waking the job workers, publishing a realtime message).
 * - `everyNode(event)`: once the unit committed, on every node of a cluster: the writing node runs it with
 *   `afterCommit`, the others when the event reaches them (see `replicate`). For what each node keeps in
 *   memory: caches, open sockets of ended sessions. A promise it returns (re-reading the feature flags) is
 *   awaited before the write is answered, on the writing node and, through the cluster's acknowledgements,
 *   on the others.
 * and one more, for clusters only:
 * - `missed()`: this node may have missed events (it lost its connection to the other nodes for a while,
 *   or another node could not tell it about its writes). Whatever an `everyNode` handler keeps up to date
 *   must be dropped or re-read.
 * After-commit handlers run synchronously, in commit order; one that throws is reported and does not stop
 * the others (the write is already committed).
 *
 * Framework-free: the event and transaction types are parameters.
 */
export interface EventHandler<E, Tx> {
  inTransaction?(tx: Tx, event: E): Promise<void> | void;
  afterCommit?(event: E): void;
  everyNode?(event: E): Promise<void> | void;
  missed?(): Promise<void> | void;
}

export interface EventBusOptions<E> {
  /** An after-commit handler threw; the write is committed regardless. */
  onHandlerError(err: unknown, event: E | undefined): void;
  /**
   * Hand committed events to the other nodes (a cluster); the promise settles when they have applied them,
   * or gave up waiting. Absent on a single node.
   */
  replicate?(events: readonly E[]): Promise<void>;
}

export class EventBus<E, Tx> {
  readonly #handlers: EventHandler<E, Tx>[] = [];
  readonly #options: EventBusOptions<E>;

  constructor(options: EventBusOptions<E>) {
    this.#options = { ...options };
  }

  /** Register a handler; returns a function that removes it. */
  on(handler: EventHandler<E, Tx>): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Hand committed events to the other nodes from now on (set once, by the cluster that replicates). */
  replicateWith(replicate: (events: readonly E[]) => Promise<void>): void {
    this.#options.replicate = replicate;
  }

  /** Called by the store when a unit emits: the in-transaction handlers, in registration order. */
  async inTransaction(tx: Tx, event: E): Promise<void> {
    for (const h of this.#handlers) if (h.inTransaction) await h.inTransaction(tx, event);
  }

  /** Called by the store after a unit committed, in commit order. */
  committed(events: readonly E[]): void | Promise<void> {
    if (events.length === 0) return;
    const waits: Promise<void>[] = [];
    for (const event of events) {
      for (const h of this.#handlers) {
        if (h.everyNode) this.#safely(h, "everyNode", event, waits);
        if (h.afterCommit) this.#safely(h, "afterCommit", event, waits);
      }
    }
    const replicated = this.#options.replicate?.(events);
    if (replicated instanceof Promise) waits.push(replicated);
    if (waits.length > 0) return Promise.all(waits).then(() => undefined);
  }

  /** Events another node committed: only the `everyNode` handlers run here. Settles once they are applied. */
  received(events: readonly E[]): void | Promise<void> {
    const waits: Promise<void>[] = [];
    for (const event of events) {
      for (const h of this.#handlers) if (h.everyNode) this.#safely(h, "everyNode", event, waits);
    }
    if (waits.length > 0) return Promise.all(waits).then(() => undefined);
  }

  /** This node may have missed events: every `missed` handler runs; settles once they all have. */
  async missed(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const h of this.#handlers) {
      if (!h.missed) continue;
      try {
        const pending = h.missed();
        if (pending instanceof Promise)
          waits.push(pending.catch((err) => this.#options.onHandlerError(err, undefined)));
      } catch (err) {
        this.#options.onHandlerError(err, undefined);
      }
    }
    await Promise.all(waits);
  }

  /** Run one handler point; a failure (thrown or rejected) is reported, never passed on. */
  #safely(
    h: EventHandler<E, Tx>,
    point: "afterCommit" | "everyNode",
    event: E,
    waits: Promise<void>[],
  ): void {
    try {
      const pending = h[point]?.(event);
      if (pending instanceof Promise)
        waits.push(pending.catch((err) => this.#options.onHandlerError(err, event)));
    } catch (err) {
      this.#options.onHandlerError(err, event);
    }
  }
}

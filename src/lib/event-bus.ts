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
 *   memory: caches, open sockets of ended sessions.
 * After-commit handlers run synchronously, in commit order; one that throws is reported and does not stop
 * the others (the write is already committed).
 *
 * Framework-free: the event and transaction types are parameters.
 */
export interface EventHandler<E, Tx> {
  inTransaction?(tx: Tx, event: E): Promise<void> | void;
  afterCommit?(event: E): void;
  everyNode?(event: E): void;
}

export interface EventBusOptions<E> {
  /** An after-commit handler threw; the write is committed regardless. */
  onHandlerError(err: unknown, event: E): void;
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
    this.#options = options;
  }

  /** Register a handler; returns a function that removes it. */
  on(handler: EventHandler<E, Tx>): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /** Called by the store when a unit emits: the in-transaction handlers, in registration order. */
  async inTransaction(tx: Tx, event: E): Promise<void> {
    for (const h of this.#handlers) if (h.inTransaction) await h.inTransaction(tx, event);
  }

  /** Called by the store after a unit committed, in commit order. */
  committed(events: readonly E[]): void | Promise<void> {
    if (events.length === 0) return;
    for (const event of events) {
      for (const h of this.#handlers) {
        if (h.everyNode) this.#safely(h, "everyNode", event);
        if (h.afterCommit) this.#safely(h, "afterCommit", event);
      }
    }
    return this.#options.replicate?.(events);
  }

  /** Events another node committed: only the `everyNode` handlers run here. */
  received(events: readonly E[]): void {
    for (const event of events) {
      for (const h of this.#handlers) if (h.everyNode) this.#safely(h, "everyNode", event);
    }
  }

  #safely(h: EventHandler<E, Tx>, point: "afterCommit" | "everyNode", event: E): void {
    try {
      h[point]?.(event);
    } catch (err) {
      this.#options.onHandlerError(err, event);
    }
  }
}

/**
 * Domain events with transaction semantics. A write runs through `transact`; the events it emits reach
 * `inTransaction` handlers at once, inside the same transaction (so an outbox job commits or rolls back
 * with the write), and `afterCommit` handlers only once the transaction has committed, in emit order.
 * bun:sqlite transactions are synchronous and JavaScript runs on one thread, so commit order and the order
 * in which after-commit handlers run are the same.
 */
export interface EventHandler<E, Tx> {
  inTransaction?(tx: Tx, event: E): void;
  afterCommit?(event: E): void;
}

type Transaction<Tx> = <T>(fn: (tx: Tx) => T) => T;

export class DomainEvents<E, Tx> {
  readonly #handlers: EventHandler<E, Tx>[] = [];

  constructor(
    private readonly transaction: Transaction<Tx>,
    private readonly onHandlerError: (err: unknown, event: E) => void,
  ) {}

  /** Register a handler; returns a function that removes it. */
  on(handler: EventHandler<E, Tx>): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  /**
   * Run `fn` in a transaction. An `inTransaction` handler that throws rolls the write back (it is part of
   * it); an `afterCommit` handler that throws is reported and does not affect the others.
   */
  transact<T>(fn: (tx: Tx, emit: (event: E) => void) => T): T {
    const emitted: E[] = [];
    const result = this.transaction((tx) =>
      fn(tx, (event) => {
        emitted.push(event);
        for (const h of this.#handlers) h.inTransaction?.(tx, event);
      }),
    );
    for (const event of emitted) {
      for (const h of this.#handlers) {
        try {
          h.afterCommit?.(event);
        } catch (err) {
          this.onHandlerError(err, event);
        }
      }
    }
    return result;
  }
}

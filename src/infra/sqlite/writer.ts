/**
 * Group commit: the one writer of an SQLite database in this process.
 *
 * SQLite allows one writer at a time, and a commit is the expensive part of a small write (the WAL frames
 * of every page it touched). So units of work are queued and run together: one `BEGIN IMMEDIATE`, each unit
 * in its own SAVEPOINT, one `COMMIT` for all of them. Guarantees:
 * - A unit that throws rolls back to its savepoint: its own work is undone, it alone is rejected, and the
 *   others in the batch carry on.
 * - No unit is answered before the shared COMMIT has returned; if the COMMIT fails, every unit of the batch
 *   is rejected and nothing of it is in the database.
 * - After the commit, `hooks.committed` runs for each unit in the order the units ran, which is commit order;
 *   a unit's promise resolves only after its hook (and any promise the hook returned) has settled.
 * - Batches are bounded by `maxBatch`. A batch starts on `setImmediate` after the first unit is queued, so
 *   a lone write waits for nothing but the current turn of the event loop; under load, every unit queued by
 *   the requests handled in one turn shares one commit.
 *
 * Units run one after another on this connection, and bun:sqlite is synchronous: a unit that only does
 * store work never yields to the event loop, so no other request can run (or read) between its statements.
 * A unit that awaits something else (a timer, the network) holds up every write behind it; `onSlowUnit`
 * reports units slower than `slowUnitMs`.
 *
 * Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY mid-transaction) make SQLite roll back the whole
 * transaction on its own. The writer checks `inTransaction` after a failure: if the transaction is gone,
 * the units that had succeeded in it are rejected with the error too (their work is gone), and the units
 * not yet run go back to the front of the queue for the next batch.
 */
import type { Database } from "bun:sqlite";
import { AsyncLocalStorage } from "node:async_hooks";

export interface WriterHooks<Tx, E> {
  /** The transaction handle a unit gets; `emit` records its events. */
  tx(emit: (event: E) => Promise<void>): Tx;
  /** In-transaction reaction to an emitted event (runs before `emit` resolves). */
  inTransaction(tx: Tx, event: E): Promise<void>;
  /** After the commit, once per unit, in commit order. */
  committed(events: readonly E[]): void | Promise<void>;
  /** Map a driver error to what callers should see (engine-neutral errors). */
  normalise(err: unknown): unknown;
}

export interface WriterOptions {
  /** Most units in one transaction. */
  maxBatch?: number;
  /** A unit slower than this is reported (it held up every write queued behind it). */
  slowUnitMs?: number;
  onSlowUnit?: (ms: number) => void;
}

export interface WriterStats {
  /** Transactions committed. */
  batches: number;
  /** Units of work committed in them. */
  units: number;
  failedUnits: number;
  failedCommits: number;
  largestBatch: number;
}

interface Unit<Tx, E> {
  work: (tx: Tx) => Promise<unknown>;
  /** Runs alone, outside any transaction (a checkpoint, a lock probe), between two batches. */
  outside?: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  events: E[];
  result?: unknown;
  running: boolean;
}

export class SqliteWriter<Tx, E> {
  readonly #db: Database;
  readonly #hooks: WriterHooks<Tx, E>;
  readonly #maxBatch: number;
  readonly #slowUnitMs: number;
  readonly #onSlowUnit?: (ms: number) => void;
  /** The unit whose work is running, as seen from inside it (to refuse nested writes). */
  readonly #current = new AsyncLocalStorage<Unit<Tx, E>>();
  #queue: Unit<Tx, E>[] = [];
  #scheduled = false;
  #running = false;
  #idle: (() => void)[] = [];
  #closed = false;
  readonly #stats: WriterStats = { batches: 0, units: 0, failedUnits: 0, failedCommits: 0, largestBatch: 0 };

  constructor(db: Database, hooks: WriterHooks<Tx, E>, options: WriterOptions = {}) {
    this.#db = db;
    this.#hooks = hooks;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#slowUnitMs = options.slowUnitMs ?? 250;
    this.#onSlowUnit = options.onSlowUnit;
  }

  /** Queue a unit of work; settles after its batch committed (or it failed alone). */
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    if (this.#current.getStore()?.running) {
      // Waiting for a unit queued behind the running one would never end.
      return Promise.reject(new Error("store.write called inside a unit of work: pass its tx instead"));
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
        events: [],
        running: false,
      });
      this.#schedule();
    });
  }

  /**
   * Run `fn` on the writer's connection outside any transaction, between two batches (statements that
   * cannot run in a transaction, or must not meet one: a WAL checkpoint, `PRAGMA optimize`, a lock probe).
   */
  outside<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        work: async () => fn(),
        outside: true,
        resolve: resolve as (value: unknown) => void,
        reject,
        events: [],
        running: false,
      });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or running (for shutdown). */
  drain(): Promise<void> {
    if (!this.#running && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuse new units; what is queued still runs. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  stats(): WriterStats {
    return { ...this.#stats };
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0]!;
        if (head.outside) {
          this.#queue.shift();
          try {
            head.resolve(await head.work(undefined as Tx));
          } catch (err) {
            head.reject(this.#hooks.normalise(err));
          }
          continue;
        }
        // Up to the next `outside` unit: it runs after this batch has committed.
        let end = 1;
        while (end < this.#queue.length && end < this.#maxBatch && !this.#queue[end]!.outside) end++;
        await this.#runBatch(this.#queue.splice(0, end));
      }
    } finally {
      this.#running = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #runBatch(batch: Unit<Tx, E>[]): Promise<void> {
    const db = this.#db;
    try {
      db.run("BEGIN IMMEDIATE");
    } catch (err) {
      const error = this.#hooks.normalise(err);
      for (const unit of batch) unit.reject(error);
      return;
    }
    const done: Unit<Tx, E>[] = [];
    for (let i = 0; i < batch.length; i++) {
      const unit = batch[i]!;
      const ok = await this.#runUnit(unit);
      if (ok) {
        done.push(unit);
        continue;
      }
      if (!db.inTransaction) {
        // SQLite rolled the whole transaction back (disk full, I/O error): the work of the units before
        // this one is gone with it. Those not yet run get a transaction of their own.
        this.#stats.failedCommits++;
        const error = this.#hooks.normalise(new Error("the transaction was rolled back by SQLite"));
        for (const lost of done) lost.reject(error);
        this.#queue.unshift(...batch.slice(i + 1));
        return;
      }
    }
    try {
      db.run("COMMIT");
    } catch (err) {
      this.#stats.failedCommits++;
      if (db.inTransaction) {
        try {
          db.run("ROLLBACK");
        } catch {
          // Nothing more to undo: SQLite already ended the transaction.
        }
      }
      const error = this.#hooks.normalise(err);
      for (const unit of done) unit.reject(error);
      return;
    }
    this.#stats.batches++;
    this.#stats.units += done.length;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, done.length);
    // Hooks in commit order, synchronously one after the other; what they return is awaited together.
    const settled = done.map((unit) => {
      try {
        return this.#hooks.committed(unit.events);
      } catch {
        return undefined;
      }
    });
    done.forEach((unit, i) => {
      const pending = settled[i];
      if (pending instanceof Promise) {
        pending.then(
          () => unit.resolve(unit.result),
          () => unit.resolve(unit.result),
        );
      } else unit.resolve(unit.result);
    });
  }

  /** Run one unit in a savepoint; true if it succeeded (its work stays in the open transaction). */
  async #runUnit(unit: Unit<Tx, E>): Promise<boolean> {
    const db = this.#db;
    const hooks = this.#hooks;
    const started = performance.now();
    db.run("SAVEPOINT unit");
    unit.running = true;
    const tx: Tx = hooks.tx(async (event) => {
      unit.events.push(event);
      await hooks.inTransaction(tx, event);
    });
    try {
      unit.result = await this.#current.run(unit, () => unit.work(tx));
      db.run("RELEASE unit");
      return true;
    } catch (err) {
      unit.events.length = 0;
      if (db.inTransaction) {
        try {
          db.run("ROLLBACK TO unit");
          db.run("RELEASE unit");
        } catch {
          // The transaction ended under us; the caller checks inTransaction.
        }
      }
      this.#stats.failedUnits++;
      unit.reject(hooks.normalise(err));
      return false;
    } finally {
      unit.running = false;
      const ms = performance.now() - started;
      if (ms > this.#slowUnitMs) this.#onSlowUnit?.(ms);
    }
  }
}

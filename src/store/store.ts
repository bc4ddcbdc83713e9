/**
 * The store: Quire's one way to reach its data, whatever the engine (SQLite in-process, Postgres).
 *
 * Model:
 * - `read` holds the repositories for reads outside a write. Each call sees data committed before it
 *   started; nothing a write has not committed yet is ever visible there.
 * - `write(work)` runs `work` as one atomic unit against the repositories of a transaction (`tx`). The
 *   promise settles only once the unit has committed (or failed and changed nothing), so a write that was
 *   answered is durable (as durable as the engine makes a commit: see the engine's header).
 * - Domain events are emitted inside the unit with `await tx.emit(event)`. The event bus runs its
 *   in-transaction handlers there and then (an outbox job commits or rolls back with the write), and its
 *   after-commit handlers once the unit has committed, in commit order, before `write` resolves: when a
 *   request's answer is sent, caches have already dropped what it changed.
 * - A unit must only do store work: no network calls, no password hashing. On SQLite units run one after
 *   another on one connection (grouped into shared commits, see src/infra/sqlite/writer.ts), so a slow unit
 *   holds up every write. Hash first, then write.
 * - Units do not nest: a function that must run inside a caller's unit takes its `tx`.
 *
 * Services depend on this interface only; they never import an engine.
 */
import type { DomainEvent } from "../events.ts";
import type { Repos } from "./repos.ts";

export type Engine = "sqlite" | "postgres";

/** What a unit of work gets: the repositories on its transaction, and `emit`. */
export interface WriteTx extends Repos {
  /** Record a domain event of this unit; in-transaction handlers run before this resolves. */
  emit(event: DomainEvent): Promise<void>;
}

export interface Store {
  readonly engine: Engine;
  /** Repositories for reads outside a write (committed data only). */
  readonly read: Repos;
  /** Run `work` atomically; resolves with its result after the commit and the after-commit handlers. */
  write<T>(work: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Whether the engine accepts writes right now (readiness), with a short reason when it does not. */
  probe(): Promise<StoreHealth>;
  /** The engine-neutral error (src/store/errors.ts) for what a read threw; anything else unchanged. */
  normaliseError(err: unknown): unknown;
  /** Finish what is queued, then close every connection. */
  close(): Promise<void>;
}

export interface WriteOptions {
  /**
   * `serializable` (the default): the unit's outcome is that of some serial order of all units, whatever it
   * read. `read-committed`: for a unit of single statements that each guard themselves in their WHERE clause
   * (the job queue's claim, lease and transitions), whose outcome does not rest on anything else it read; an
   * engine that runs units side by side may then skip the serializable checks (Postgres: READ COMMITTED, no
   * serialization failures to retry). SQLite runs every unit alone and ignores it.
   */
  isolation?: "serializable" | "read-committed";
}

export interface StoreHealth {
  readable: boolean;
  writable: boolean;
  /** Why not, in words an operator can act on (never a secret). */
  reason?: string;
}

/**
 * What the store tells the event bus. The engine calls these; services never do.
 * `committed` runs once per unit, in commit order; a promise it returns is awaited before the unit's
 * `write` resolves (a cluster bus waits there for other nodes to drop their caches).
 */
export interface TransactionHooks {
  inTransaction(tx: WriteTx, event: DomainEvent): Promise<void>;
  committed(events: readonly DomainEvent[]): void | Promise<void>;
}

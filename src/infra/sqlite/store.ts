/**
 * The store on SQLite in-process (the embedded default): migrations applied on open, reads on the reader
 * connection, every write through the group-commit writer (./writer.ts) on the writer connection, and WAL
 * checkpoints in a worker thread once something has been written (./checkpointer.ts). A write or a
 * checkpoint that failed for a storage reason (disk full, read-only, I/O error) marks the database not
 * writable until a write commits again (./write-health.ts): readiness reports it, reads keep working.
 */
import type { Database } from "bun:sqlite";
import type { DomainEvent } from "../../events.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Repos } from "../../store/repos.ts";
import type { Store, StoreHealth, TransactionHooks, WriteTx } from "../../store/store.ts";
import { type Checkpointer, type CheckpointStats, startCheckpointer, walBytes } from "./checkpointer.ts";
import { type Connections, isMemory, openConnections } from "./client.ts";
import { normaliseSqliteError } from "./errors.ts";
import { applyMigrations } from "./migrate.ts";
import { createSqliteRepos } from "./repos/index.ts";
import { WriteHealth } from "./write-health.ts";
import { SqliteWriter, type WriterStats } from "./writer.ts";

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  url: string;
  hooks: TransactionHooks;
  busyTimeoutMs?: number;
  /** Background WAL checkpoints every this many ms, started by the first commit; 0 or absent: none. */
  checkpointIntervalMs?: number;
  /** Checkpoint alarms, units that held the writer too long. */
  log: Logger;
}

export interface SqliteStore extends Store {
  readonly engine: "sqlite";
  /** For engine operations (backups, metrics, integrity checks) and tests; services never use these. */
  readonly connections: Connections;
  readonly url: string;
  writerStats(): WriterStats;
  /** Checkpoints run and failed (zeros before the first one, or without a checkpointer). */
  checkpointStats(): CheckpointStats;
  /** Bytes of the WAL file now. */
  walBytes(): number;
  /** Start background checkpoints now (normally the first commit starts them when configured). */
  startCheckpoints(intervalMs: number): Checkpointer;
  /** Run `fn` on the writer connection outside any transaction, between two batches of writes. */
  exclusive<T>(fn: (connection: Database) => T): Promise<T>;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { url, hooks } = options;
  const connections = openConnections(url, { busyTimeoutMs: options.busyTimeoutMs });
  applyMigrations(connections.writerDb);
  const writeRepos = createSqliteRepos(connections.writerDb, connections.writer);
  const read: Repos =
    connections.reader === connections.writer
      ? writeRepos
      : createSqliteRepos(connections.readerDb, connections.reader);

  let checkpointer: Checkpointer | undefined;
  const interval = options.checkpointIntervalMs ?? 0;
  const wantsCheckpointer = interval > 0 && !isMemory(url);
  const { log } = options;
  const health = new WriteHealth();
  const startCheckpoints = (every: number) => {
    checkpointer ??= startCheckpointer(connections.writer, url, every, log, (err) => health.note(err));
    return checkpointer;
  };
  const normalise = (err: unknown) => {
    health.note(err);
    return normaliseSqliteError(err);
  };

  const writer = new SqliteWriter<WriteTx, DomainEvent>(
    connections.writer,
    {
      tx: (emit) => ({ ...writeRepos, emit }),
      inTransaction: (tx, event) => hooks.inTransaction(tx, event),
      committed(events) {
        if (wantsCheckpointer && !checkpointer) startCheckpoints(interval);
        return hooks.committed(events);
      },
      normalise,
    },
    { onSlowUnit: (ms) => log.warn({ ms: Math.round(ms) }, "a unit of work held the writer") },
  );

  return {
    engine: "sqlite",
    url,
    connections,
    read,
    write: (work) => writer.write(work),
    normaliseError: normaliseSqliteError,
    probe: () => writer.outside(() => probe(connections, health)),
    writerStats: () => writer.stats(),
    checkpointStats: () => checkpointer?.stats() ?? { runs: 0, failures: 0, failing: 0, lastLogPages: 0 },
    walBytes: () => (isMemory(url) ? 0 : walBytes(url)),
    startCheckpoints,
    exclusive: (fn) => writer.outside(() => fn(connections.writer)),
    async close() {
      await writer.close();
      await checkpointer?.stop();
      closeConnections(connections);
    },
  };
}

/** How long the write-lock probe may wait: a probe must answer fast, not hang behind another process. */
const PROBE_BUSY_TIMEOUT_MS = 250;

/**
 * Readable: the reader answers. Writable: BEGIN IMMEDIATE takes the write lock (ROLLBACK gives it back) and,
 * after a storage failure, a real write commits again (a full disk still grants the lock).
 */
function probe({ reader, writer }: Connections, health: WriteHealth): StoreHealth {
  try {
    reader.query("SELECT 1").get();
  } catch (err) {
    return { readable: false, writable: false, reason: String((err as Error).message) };
  }
  const previous = writer.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout ?? 5000;
  try {
    writer.run(`PRAGMA busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`);
    if (health.failure !== undefined) {
      return health.recover(writer)
        ? { readable: true, writable: true }
        : { readable: true, writable: false, reason: `a write failed (${health.failure}) and still fails` };
    }
    writer.run("BEGIN IMMEDIATE");
    writer.run("ROLLBACK");
    return { readable: true, writable: true };
  } catch (err) {
    return { readable: true, writable: false, reason: String((err as Error).message) };
  } finally {
    writer.run(`PRAGMA busy_timeout = ${previous}`);
  }
}

function closeConnections({ writer, reader }: Connections): void {
  try {
    writer.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch {
    // :memory: has no WAL; a busy checkpoint is retried by SQLite on the next open.
  }
  if (reader !== writer) reader.close();
  writer.close();
}

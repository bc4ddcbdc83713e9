/**
 * The store on Postgres (DATABASE_URL=postgres://…): migrations applied on open under an advisory lock
 * (./migrate.ts), reads on the pool, each unit of work in a transaction of its own.
 *
 * Why SERIALIZABLE, and why retries. On SQLite every unit runs alone (one writer, ../sqlite/writer.ts), and
 * services rely on that: "refuse the change if it leaves no active admin" is checked inside the unit after
 * the update; 40 concurrent favourites count once; of two concurrent refreshes of one token exactly one wins.
 * On Postgres units run at the same time on several connections (and several nodes). At READ COMMITTED the
 * admin check is a write skew: two units demoting the last two admins each see the other still active and
 * both commit. So every unit runs at SERIALIZABLE: Postgres then guarantees the outcome of some serial order
 * of the units, or fails one with 40001 (or 40P01, deadlock) and changes nothing. The failed unit is run again
 * from the start with a fresh event list (units are pure store work, so running one again is safe), up to
 * `maxAttempts` runs; then StoreUnavailable("busy") (503, Retry-After).
 *
 * Retries run in a serialized lane (inLane below): one unit at a time, on a connection holding a session
 * advisory lock taken before BEGIN, so its snapshot already holds every earlier lane unit's commit and it does
 * not lose to them again; while units wait in the lane, new ones queue behind them instead of racing them for
 * the same rows. Without the lane, 32 units bumping one article's favourites count failed each other in a storm
 * (822 retries for 1,000 units; 26-30 with it): a hot row degrades to one unit at a time, as on SQLite.
 *
 * Alternatives weighed: a global advisory lock around every unit is exactly SQLite's model but serialises all
 * writes of the cluster behind one lock held across network round trips; READ COMMITTED with hand-placed row
 * locks depends on every service author spotting every invariant. SERIALIZABLE is checked by the server, and
 * the lane only changes scheduling, never what a unit may see, so it cannot make the outcome unsound.
 *
 * Cost (`bun bench/pg-units.ts`: 2,000 units, pool 10, embedded Postgres 18 with fsync off, this 2-core
 * machine shared with other work at load average 7-14, three runs; SERIALIZABLE through this store against
 * READ COMMITTED running the same repositories without retries):
 * - one unit at a time: no difference beyond noise (308/397, 400/424 units/s);
 * - 32 at a time on disjoint rows: 0.74-0.90x, no retries (958/858, 1,540/1,140 units/s);
 * - 32 at a time on one hot row: 0.85-1.33x (292/249, 338/451 units/s), ~1.4% of units retried;
 * - the job queue, 3 stores x 4 loops claiming with FOR UPDATE SKIP LOCKED: 0.38-0.52x (575/268, 674/352
 *   jobs/s). SKIP LOCKED dodges in-flight claims, but a serializable snapshot still sees a job another claimer
 *   has just committed, and the claim's index range reads are predicate-locked; the queue's statements are
 *   single, self-guarded statements that would be safe at READ COMMITTED, if the Store let a unit ask for it.
 *
 * What else differs from SQLite:
 * - A failed statement aborts the unit's transaction (SQLite's savepoint lets the unit go on). A unit must not
 *   catch a store error and continue with more statements; rethrow it. The inserts that services expect to
 *   collide (article slug, username, email) answer UniqueViolation without aborting (ON CONFLICT DO NOTHING).
 * - After-commit hooks run in the order the commits were acknowledged to this process; units of other nodes
 *   are not in that order (a cluster bus orders them).
 * - Reads see committed data at READ COMMITTED, one statement at a time, as SQLite's reader connection does.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ReservedSQL, SQL } from "bun";
import type { DomainEvent } from "../../events.ts";
import { StoreUnavailable } from "../../store/errors.ts";
import type { Repos } from "../../store/repos.ts";
import type { Store, StoreHealth, TransactionHooks, WriteOptions, WriteTx } from "../../store/store.ts";
import { drizzleOn, openPool } from "./client.ts";
import { isRetryable, normalisePostgresError } from "./errors.ts";
import { applyMigrations } from "./migrate.ts";
import { createPostgresRepos } from "./repos/index.ts";
import { SearchTokenizer } from "./repos/search-text.ts";

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL. */
  url: string;
  hooks: TransactionHooks;
  /** Most connections (default 10). A unit holds one for its transaction; a read holds one per statement. */
  poolSize?: number;
  connectTimeoutSeconds?: number;
  idleTimeoutSeconds?: number;
  /** How long a statement waits for a lock before StoreUnavailable("busy") (./client.ts; default 5000). */
  lockTimeoutMs?: number;
  /** Apply drizzle/pg migrations on open (default true; `quire migrate` and tests may do it apart). */
  migrate?: boolean;
  /** Runs of one unit that keeps meeting serialization failures before it gives up (default 10). */
  maxAttempts?: number;
  /** How long `probe()` waits for the server (default 2000 ms). */
  probeTimeoutMs?: number;
  /** A unit was retried many times, a connection failed: for the log. */
  onWarning?: (message: string, detail?: Record<string, unknown>) => void;
}

export interface PostgresStats {
  poolSize: number;
  /** Connections held by a running read or unit (estimated from the store's own operations). */
  inUse: number;
  /** Operations waiting for a connection because every one is held. */
  waiting: number;
  /** Operations that had to wait for a connection (a counter). */
  waits: number;
  /** Reads and units run, and those that failed (any error, the request's or the server's). */
  queries: number;
  queryErrors: number;
  /** Connections that closed with an error or failed to open. */
  connectionErrors: number;
  units: number;
  /** Runs of a unit again after a serialization failure or deadlock. */
  retries: number;
  /** Runs in the serialized lane (every retry runs there). */
  laneRuns: number;
  /** Units answered busy because the lane already held MAX_LANE waiting units. */
  laneRefused: number;
  /** Units that gave up after `maxAttempts` runs. */
  exhausted: number;
}

export interface PostgresStore extends Store {
  readonly engine: "postgres";
  /** For engine operations (backups, metrics) and tests; services never use it. */
  readonly pool: SQL;
  /** Migrations this store applied when it opened (0 when another process had applied them). */
  readonly migrationsApplied: number;
  stats(): PostgresStats;
}

type Isolation = NonNullable<WriteOptions["isolation"]>;
const BEGIN: Record<Isolation, string> = {
  serializable: "isolation level serializable",
  "read-committed": "isolation level read committed",
};

/** The serialized lane's advisory lock (see inLane): "quire un" in ASCII, apart from the migrations' lock. */
export const UNIT_LANE_LOCK = 0x717569726520756en;
/** Most lane units run under one hold of the lock before it is handed over. */
const LANE_BATCH = 64;
/** Units that may wait in the lane; more are answered busy (a hot row cannot queue without bound). */
const MAX_LANE = 1_000;

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { hooks } = options;
  const poolSize = Math.max(1, options.poolSize ?? 10);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 10);
  const warn = options.onWarning ?? (() => {});
  const stats: PostgresStats = {
    poolSize,
    inUse: 0,
    waiting: 0,
    waits: 0,
    queries: 0,
    queryErrors: 0,
    connectionErrors: 0,
    units: 0,
    retries: 0,
    laneRuns: 0,
    laneRefused: 0,
    exhausted: 0,
  };
  let closing = false;
  const pool = openPool({
    url: options.url,
    poolSize,
    connectTimeoutSeconds: options.connectTimeoutSeconds,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    lockTimeoutMs: options.lockTimeoutMs,
    onClose(err) {
      const code = (err as { code?: string }).code;
      // Idle and lifetime expiry are the pool's own housekeeping, not failures.
      if (closing || code === "ERR_POSTGRES_IDLE_TIMEOUT" || code === "ERR_POSTGRES_LIFETIME_TIMEOUT") return;
      stats.connectionErrors++;
      warn("postgres connection closed", { code });
    },
  });
  let migrationsApplied = 0;
  if (options.migrate !== false) {
    try {
      migrationsApplied = (await applyMigrations(pool)).applied;
    } catch (err) {
      await pool.close().catch(() => undefined);
      throw normalisePostgresError(err);
    }
  }

  let active = 0;
  const begin = () => {
    if (active >= poolSize) stats.waits++;
    active++;
    stats.queries++;
  };
  const end = (failed: boolean) => {
    active--;
    if (failed) stats.queryErrors++;
  };
  const tokenizer = new SearchTokenizer();
  const read = instrument(createPostgresRepos(drizzleOn(pool), tokenizer), begin, end);

  /** Set while a unit's work runs, to refuse a nested write (it would wait for a connection forever). */
  const inUnit = new AsyncLocalStorage<true>();
  const running = new Set<Promise<unknown>>();

  /** One run of a unit in its own transaction on `client`; its events, if it committed. */
  async function runOnce<T>(
    client: SQL,
    work: (tx: WriteTx) => Promise<T>,
    isolation: Isolation = "serializable",
  ): Promise<{ result: T; events: DomainEvent[] }> {
    const events: DomainEvent[] = [];
    begin();
    let failed = false;
    try {
      const result = (await client.begin(BEGIN[isolation], (conn) => {
        const tx: WriteTx = {
          ...createPostgresRepos(drizzleOn(conn), tokenizer),
          async emit(event) {
            events.push(event);
            await hooks.inTransaction(tx, event);
          },
        };
        return inUnit.run(true, () => work(tx));
      })) as T;
      return { result, events };
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      end(failed);
    }
  }

  /**
   * The serialized lane: units queued in memory (holding no connection) and run one at a time on one
   * reserved connection, which holds a session advisory lock taken *before* their BEGIN, so each lane unit's
   * snapshot already contains every earlier lane unit's commit, in this process or any other. The lock is
   * kept while the queue has work (up to LANE_BATCH units, then handed over so other nodes' lanes get a turn).
   */
  type LaneResult =
    | { ok: true; value: { result: unknown; events: DomainEvent[] } }
    | { ok: false; err: unknown };
  type LaneItem = { work: (tx: WriteTx) => Promise<unknown>; settle: (r: LaneResult) => void };
  const lane: LaneItem[] = [];
  let laneBusy = false;

  function inLane<T>(work: (tx: WriteTx) => Promise<T>): Promise<{ result: T; events: DomainEvent[] }> {
    // One unit at a time drains it: past this many waiting, a new unit is answered busy (503, Retry-After)
    // at once rather than queued for longer than its client would wait, with memory growing meanwhile.
    if (lane.length >= MAX_LANE) {
      stats.laneRefused++;
      return Promise.reject(new StoreUnavailable("busy"));
    }
    return new Promise((resolve, reject) => {
      lane.push({
        work,
        settle: (r) => (r.ok ? resolve(r.value as { result: T; events: DomainEvent[] }) : reject(r.err)),
      });
      if (!laneBusy) void drainLane();
    });
  }

  async function drainLane(): Promise<void> {
    laneBusy = true;
    try {
      while (lane.length > 0) {
        let conn: ReservedSQL | undefined;
        try {
          conn = await pool.reserve();
          await conn.unsafe(`select pg_advisory_lock(${UNIT_LANE_LOCK})`);
        } catch (err) {
          lane.shift()?.settle({ ok: false, err });
          await conn?.release();
          continue;
        }
        try {
          for (let n = 0; n < LANE_BATCH && lane.length > 0; n++) {
            const item = lane.shift()!;
            stats.laneRuns++;
            try {
              item.settle({ ok: true, value: await runOnce(conn, item.work) });
            } catch (err) {
              item.settle({ ok: false, err });
              // A lost connection lost the lock too: take both afresh for the next unit.
              const e = normalisePostgresError(err);
              if (e instanceof StoreUnavailable && e.reason === "unreachable") break;
            }
          }
        } finally {
          await conn.unsafe(`select pg_advisory_unlock(${UNIT_LANE_LOCK})`).catch(() => undefined);
          await conn.release();
        }
      }
    } finally {
      laneBusy = false;
    }
  }

  async function write<T>(work: (tx: WriteTx) => Promise<T>, isolation: Isolation): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let outcome: { result: T; events: DomainEvent[] };
      try {
        // While units are queued in the lane, new ones join it rather than race it for the same rows.
        // A read-committed unit never joins it: it does not fail for serialization, so it never retries.
        outcome =
          isolation === "read-committed" || (attempt === 1 && lane.length === 0)
            ? await runOnce(pool, work, isolation)
            : await inLane(work);
      } catch (err) {
        if (isRetryable(err) && attempt < maxAttempts) {
          stats.retries++;
          continue;
        }
        if (isRetryable(err)) {
          stats.exhausted++;
          warn("a unit of work kept meeting serialization failures", { attempts: attempt });
        }
        throw normalisePostgresError(err);
      }
      stats.units++;
      try {
        await hooks.committed(outcome.events);
      } catch (err) {
        // The unit committed: its caller gets its result; a failing after-commit handler is the bus's to log.
        warn("an after-commit hook failed", { message: String((err as Error)?.message ?? err) });
      }
      return outcome.result;
    }
  }

  async function probe(): Promise<StoreHealth> {
    const timeoutMs = options.probeTimeoutMs ?? 2000;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable("unreachable")), timeoutMs);
    });
    try {
      const [row] = await Promise.race([
        pool`select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only`,
        timeout,
      ]);
      if (row?.recovery)
        return { readable: true, writable: false, reason: "the server is a standby (in recovery)" };
      if (row?.read_only === "on") {
        return { readable: true, writable: false, reason: "the server's transactions are read-only" };
      }
      return { readable: true, writable: true };
    } catch (err) {
      const e = normalisePostgresError(err);
      const reason = e instanceof StoreUnavailable ? `database ${e.reason}` : "database error";
      return { readable: false, writable: false, reason };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    engine: "postgres",
    pool,
    migrationsApplied,
    read,
    write(work, options) {
      if (closing) return Promise.reject(new Error("the store is closed"));
      if (inUnit.getStore()) {
        return Promise.reject(new Error("store.write called inside a unit of work: pass its tx instead"));
      }
      const unit = write(work, options?.isolation ?? "serializable");
      running.add(unit);
      void unit.then(
        () => running.delete(unit),
        () => running.delete(unit),
      );
      return unit;
    },
    probe,
    normaliseError: normalisePostgresError,
    stats: () => ({ ...stats, inUse: Math.min(active, poolSize), waiting: Math.max(0, active - poolSize) }),
    async close() {
      closing = true;
      await Promise.allSettled([...running]);
      await pool.close({ timeout: 5 });
      tokenizer.close();
    },
  };
}

/** Each repository method counted (in flight, failed) and its errors made engine-neutral. */
function instrument(repos: Repos, begin: () => void, end: (failed: boolean) => void): Repos {
  const wrapped: Record<string, unknown> = {};
  for (const [name, repo] of Object.entries(repos)) {
    const methods: Record<string, unknown> = {};
    for (const [key, fn] of Object.entries(repo as Record<string, unknown>)) {
      if (typeof fn !== "function") continue;
      methods[key] = async (...args: unknown[]) => {
        begin();
        let failed = false;
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (err) {
          failed = true;
          throw normalisePostgresError(err);
        } finally {
          end(failed);
        }
      };
    }
    wrapped[name] = methods;
  }
  return wrapped as unknown as Repos;
}

/**
 * The engines the store contract suite runs on. Every test file in tests/store describes its tests once with
 * `describeEngines`, and they run on the engine of this test run (TEST_ENGINE: the README's test line runs the
 * whole suite once per engine), so both engines answer to the same contract.
 */
import { afterEach, beforeEach, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DomainEvent } from "../../src/events.ts";
import { openPostgresStore, type PostgresStore } from "../../src/infra/postgres/store.ts";
import { openSqliteStore } from "../../src/infra/sqlite/store.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { Engine, Store, TransactionHooks, WriteTx } from "../../src/store/store.ts";
import { testEngine } from "../helpers/engine.ts";
import { testPostgres } from "../helpers/postgres.ts";

export interface StoreOptions {
  hooks?: TransactionHooks;
  poolSize?: number;
}

export interface StoreHandle {
  store: Store;
  /** Another store on the same database (another process or node), closed by dispose(). */
  another(options?: StoreOptions): Promise<Store>;
  dispose(): Promise<void>;
}

export interface EngineUnderTest {
  name: Engine;
  /**
   * Whether units of one store can be in flight at the same time. On SQLite they run one after another, so a
   * test must not make one unit wait for another (it would wait forever).
   */
  overlappingUnits: boolean;
  /** A store on a fresh, migrated database of its own. */
  open(options?: StoreOptions): Promise<StoreHandle>;
}

/** Hooks that do nothing: most tests are about the repositories. */
export const quietHooks: TransactionHooks = { inTransaction: async () => {}, committed: () => {} };

const postgres = testEngine === "postgres" ? await testPostgres() : undefined;
const silentLogger = createLogger("silent");

const postgresEngine: EngineUnderTest | undefined = postgres && {
  name: "postgres",
  overlappingUnits: true,
  async open(options = {}) {
    const db = await postgres.freshDatabase();
    const stores: PostgresStore[] = [];
    const open = async (o: StoreOptions = {}) => {
      const s = await openPostgresStore({
        url: db.url,
        hooks: o.hooks ?? quietHooks,
        poolSize: o.poolSize ?? 8,
        migrate: false,
      });
      stores.push(s);
      return s;
    };
    return {
      store: await open(options),
      another: open,
      async dispose() {
        // QUIRE_STORE_STATS=1 prints each store's counters (retries, lane runs) for the figures in reports.
        if (process.env.QUIRE_STORE_STATS) {
          const { units, retries, laneRuns, exhausted } = stores.reduce(
            (sum, s) => {
              const st = s.stats();
              return {
                units: sum.units + st.units,
                retries: sum.retries + st.retries,
                laneRuns: sum.laneRuns + st.laneRuns,
                exhausted: sum.exhausted + st.exhausted,
              };
            },
            { units: 0, retries: 0, laneRuns: 0, exhausted: 0 },
          );
          console.log(
            `  store stats: units ${units}, retries ${retries}, lane runs ${laneRuns}, exhausted ${exhausted}`,
          );
        }
        await Promise.allSettled(stores.map((s) => s.close()));
        await postgres.dropDatabase(db.name);
      },
    };
  },
};

const sqliteEngine: EngineUnderTest = {
  name: "sqlite",
  overlappingUnits: false,
  async open(options = {}) {
    // A file, not :memory:, so that another() is a second store on the same database (another process).
    const dir = mkdtempSync(join(tmpdir(), "quire-store-"));
    const url = join(dir, "quire.db");
    const stores: Store[] = [];
    const open = async (o: StoreOptions = {}) => {
      const s = openSqliteStore({ url, hooks: o.hooks ?? quietHooks, log: silentLogger });
      stores.push(s);
      return s;
    };
    return {
      store: await open(options),
      another: open,
      async dispose() {
        await Promise.allSettled(stores.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The engine this run tests (TEST_ENGINE, tests/helpers/engine.ts): the suite runs once per engine. */
export const engines: EngineUnderTest[] = [testEngine === "postgres" ? postgresEngine : sqliteEngine].filter(
  (e): e is EngineUnderTest => e !== undefined,
);

/** Describe `body` once per engine; `use()` gives the current test's store handle (fresh per test). */
export function describeEngines(
  title: string,
  body: (engine: EngineUnderTest, use: () => StoreHandle) => void,
  options: StoreOptions = {},
): void {
  for (const engine of engines) {
    describe(`${title} [${engine.name}]`, () => {
      let handle: StoreHandle | undefined;
      beforeEach(async () => {
        handle = await engine.open(options);
      });
      afterEach(async () => {
        await handle?.dispose();
        handle = undefined;
      });
      body(engine, () => {
        if (!handle) throw new Error("no store: use() is for inside a test");
        return handle;
      });
    });
  }
}

/** Hooks that record what the store told them, in order. */
export function recordingHooks(onInTransaction?: (tx: WriteTx, event: DomainEvent) => Promise<void>) {
  const log: string[] = [];
  const committed: DomainEvent[][] = [];
  const hooks: TransactionHooks = {
    async inTransaction(tx, event) {
      log.push(`in:${event.type}`);
      await onInTransaction?.(tx, event);
    },
    committed(events) {
      log.push(`committed:${events.map((e) => e.type).join(",")}`);
      committed.push([...events]);
    },
  };
  return { hooks, log, committed };
}

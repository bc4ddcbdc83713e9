/**
 * What only the Postgres engine has: migrations under an advisory lock from several processes at once, the
 * server going away or turning read-only, error mapping, pool figures, retries running out, and the URL's
 * database winning over PGDATABASE.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { normalisePostgresError } from "../../src/infra/postgres/errors.ts";
import { migrationsFolder } from "../../src/infra/postgres/migrate.ts";
import { openPostgresStore, type PostgresStore } from "../../src/infra/postgres/store.ts";
import { MissingReference, StoreUnavailable, UniqueViolation } from "../../src/store/errors.ts";
import { onlyOn, testEngine } from "../helpers/engine.ts";
import { testPostgres } from "../helpers/postgres.ts";
import { startProxy } from "../helpers/tcp-proxy.ts";
import { quietHooks } from "./engines.ts";
import { addUser, T0 } from "./fixtures.ts";

// Postgres-only (its pool, advisory locks, server errors): runs in the TEST_ENGINE=postgres half.
const pg = testEngine === "postgres" ? await testPostgres() : undefined;
const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
  entries: unknown[];
};
const opened: PostgresStore[] = [];
const open = async (url: string, extra: Partial<Parameters<typeof openPostgresStore>[0]> = {}) => {
  const store = await openPostgresStore({ url, hooks: quietHooks, migrate: false, ...extra });
  opened.push(store);
  return store;
};
const databases: string[] = [];
const fresh = async (empty = false) => {
  const db = empty ? await pg!.emptyDatabase() : await pg!.freshDatabase();
  databases.push(db.name);
  return db;
};
afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  await Promise.allSettled(databases.map((name) => pg!.dropDatabase(name)));
});

onlyOn("postgres")("postgres engine", () => {
  test("three stores opening an empty database at once apply the migrations once", async () => {
    const db = await fresh(true);
    const stores = await Promise.all([1, 2, 3].map(() => open(db.url, { migrate: true })));
    expect(stores.map((s) => s.migrationsApplied).reduce((a, b) => a + b, 0)).toBe(journal.entries.length);
    const [{ n }] = await stores[0]!.pool`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(n).toBe(journal.entries.length);
    const user = await addUser(stores[1]!, "first");
    expect((await stores[2]!.read.users.byId(user.id))?.username).toBe("first");
    const again = await open(db.url, { migrate: true });
    expect(again.migrationsApplied).toBe(0);
  });

  test("a server that goes away: StoreUnavailable(unreachable) and an unready probe, then recovery", async () => {
    const db = await fresh();
    const target = new URL(db.url);
    const proxy = await startProxy(target.hostname, Number(target.port));
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const store = await open(viaProxy.toString(), { connectTimeoutSeconds: 2, probeTimeoutMs: 3000 });
    await addUser(store, "before");
    await proxy.stop(); // every connection dropped, new ones refused
    const read = await store.read.users.byUsername("before").catch((e) => e);
    expect(read).toBeInstanceOf(StoreUnavailable);
    expect(read.reason).toBe("unreachable");
    const write = await addUser(store, "during").catch((e) => e);
    expect(write).toBeInstanceOf(StoreUnavailable);
    expect(write.reason).toBe("unreachable");
    expect(await store.probe()).toEqual({ readable: false, writable: false, reason: "database unreachable" });
    await proxy.start();
    expect(await store.probe()).toEqual({ readable: true, writable: true });
    expect((await store.read.users.byUsername("before"))?.username).toBe("before");
    expect(await store.read.users.byUsername("during")).toBeUndefined();
    await proxy.stop();
  });

  test("a read-only server: reads work, writes are StoreUnavailable(read-only), the probe says why", async () => {
    const db = await fresh();
    const writable = await open(db.url);
    await addUser(writable, "kept");
    await pg!.admin.unsafe(`alter database "${db.name}" set default_transaction_read_only = on`);
    const store = await open(db.url);
    expect((await store.read.users.byUsername("kept"))?.username).toBe("kept");
    const err = await addUser(store, "refused").catch((e) => e);
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect(err.reason).toBe("read-only");
    expect(await store.probe()).toEqual({
      readable: true,
      writable: false,
      reason: "the server's transactions are read-only",
    });
  });

  test("a lock held elsewhere: the write gives up after lock_timeout with StoreUnavailable(busy), then works", async () => {
    const db = await fresh();
    const store = await open(db.url, { lockTimeoutMs: 200 });
    const other = new SQL({ url: db.url, max: 1 });
    try {
      // An operator's session holding the users table, as SQLite's other process holds the write lock.
      const held = other.begin(async (tx) => {
        await tx`lock table users in exclusive mode`;
        await Bun.sleep(1_000);
      });
      await Bun.sleep(100);
      const err = await addUser(store, "blocked").catch((e) => e);
      expect(err).toBeInstanceOf(StoreUnavailable);
      expect(err.reason).toBe("busy");
      await held;
      expect((await addUser(store, "later")).username).toBe("later");
      expect(await store.read.users.byUsername("blocked")).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  test("driver errors map to the engine-neutral ones; anything else passes through", () => {
    const server = (errno: string, extra: Record<string, string> = {}) =>
      new SQL.PostgresError("x", { code: "ERR_POSTGRES_SERVER_ERROR", errno, ...extra });
    const wrapped = (cause: unknown) => new Error("Failed query: …", { cause });
    const unique = normalisePostgresError(wrapped(server("23505", { constraint: "articles_slug_uq" })));
    expect(unique).toBeInstanceOf(UniqueViolation);
    expect((unique as UniqueViolation).constraint).toBe("articles_slug_uq");
    // A row referenced by the write went away (as SQLite's SQLITE_CONSTRAINT_FOREIGNKEY): 404/409, not 500.
    expect(normalisePostgresError(wrapped(server("23503")))).toBeInstanceOf(MissingReference);
    const reasons = {
      "53100": "full",
      "25006": "read-only",
      "57P01": "unreachable",
      "57P03": "unreachable",
      "08006": "unreachable",
      "40001": "busy",
      "53300": "busy",
      "58030": "io",
    };
    for (const [errno, reason] of Object.entries(reasons)) {
      const e = normalisePostgresError(wrapped(server(errno)));
      expect([errno, (e as StoreUnavailable).reason]).toEqual([errno, reason]);
    }
    const closed = new SQL.PostgresError("Connection closed", { code: "ERR_POSTGRES_CONNECTION_CLOSED" });
    expect((normalisePostgresError(closed) as StoreUnavailable).reason).toBe("unreachable");
    const syntax = wrapped(server("42601"));
    expect(normalisePostgresError(syntax)).toBe(syntax);
    const bug = new TypeError("not a database error");
    expect(normalisePostgresError(bug)).toBe(bug);
  });

  test("pool figures: connections in use and operations waiting; query errors counted", async () => {
    const db = await fresh();
    const store = await open(db.url, { poolSize: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    const units = Array.from({ length: 5 }, (_, i) =>
      store.write(async (tx) => {
        started++;
        await tx.users.byId(i);
        await gate;
      }),
    );
    while (started < 2) await Bun.sleep(5);
    expect(store.stats()).toMatchObject({ poolSize: 2, inUse: 2, waiting: 3 });
    release();
    await Promise.all(units);
    const before = store.stats();
    expect(before).toMatchObject({ inUse: 0, waiting: 0, units: 5 });
    await store.read.articles.byIds([1.5]).catch(() => undefined); // not a bigint: the server refuses it
    expect(store.stats().queryErrors).toBe(before.queryErrors + 1);
    expect(store.stats().queries).toBe(before.queries + 1);
  });

  test("a unit that keeps losing to concurrent units gives up with StoreUnavailable(busy)", async () => {
    const db = await fresh();
    const store = await open(db.url, { maxAttempts: 1 });
    const u = await addUser(store, "hot");
    let arrived = 0;
    let open2!: () => void;
    const both = new Promise<void>((r) => {
      open2 = r;
    });
    const bump = (bio: string) =>
      store.write(async (tx) => {
        await tx.users.byId(u.id); // both take their snapshot first
        if (++arrived === 2) open2();
        await both;
        await tx.users.update(u.id, { bio, updatedAt: T0 });
      });
    const results = await Promise.allSettled([bump("a"), bump("b")]);
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBeInstanceOf(StoreUnavailable);
    expect(failed[0]!.reason.reason).toBe("busy");
    expect(store.stats().exhausted).toBe(1);
  });

  test("the URL's database wins over PGDATABASE in the environment", async () => {
    const db = await fresh();
    const saved = process.env.PGDATABASE;
    process.env.PGDATABASE = "postgres";
    try {
      const store = await open(db.url);
      const [row] = await store.pool`select current_database() as name`;
      expect(row.name).toBe(db.name);
    } finally {
      if (saved === undefined) delete process.env.PGDATABASE;
      else process.env.PGDATABASE = saved;
    }
  });
});

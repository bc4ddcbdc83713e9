/**
 * AppContext: everything a service needs, built once by main.ts (or a test helper) and passed explicitly.
 * There are no module-level singletons: two apps in one process (as in tests) never share state.
 */
import type { Database } from "bun:sqlite";
import type { Config } from "./config.ts";
import { type Db, openDatabase } from "./db/client.ts";
import { applyMigrations } from "./db/migrate.ts";
import type { DomainEvent } from "./events.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import { DomainEvents } from "./lib/events.ts";
import type { Logger } from "./lib/logger.ts";
import type { JobQueue } from "./lib/queue.ts";
import { type Caches, createCaches } from "./modules/cache/index.ts";
import { invalidateOnWrites } from "./modules/cache/invalidation.ts";
import { createJobQueue, setupBackgroundWork } from "./modules/jobs/setup.ts";

export interface AppContext {
  readonly config: Readonly<Config>;
  readonly db: Db;
  readonly sqlite: Database;
  readonly log: Logger;
  readonly clock: Clock;
  readonly caches: Caches;
  /** Writes go through `events.transact` so that realtime, caches, webhooks and emails hear of them. */
  readonly events: DomainEvents<DomainEvent, Tx>;
  /** The durable job queue (outbox jobs, email, webhooks, housekeeping); workers run only in `serve`. */
  readonly jobs: JobQueue;
}

/** A Drizzle transaction on the app database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * In-memory caches, bounded by entries, bytes and time; every write that changes a cached fact deletes its
 * entries (src/modules/cache).
 */
export type { Caches };

export interface ContextOptions {
  clock?: Clock;
}

/** Open the database, apply migrations, and assemble the context. */
export function createContext(
  config: Readonly<Config>,
  log: Logger,
  options: ContextOptions = {},
): AppContext {
  const { db, sqlite } = openDatabase(config.DATABASE_URL);
  applyMigrations(db);
  const events = new DomainEvents<DomainEvent, Tx>(
    (fn) => db.transaction(fn),
    (err, event) => log.error({ err, event: event.type }, "event handler failed"),
  );
  const clock = options.clock ?? systemClock;
  const jobs = createJobQueue(config, sqlite, clock, log);
  const caches = createCaches(config, clock);
  invalidateOnWrites(caches, events);
  const ctx: AppContext = { config, db, sqlite, log, clock, caches, events, jobs };
  setupBackgroundWork(ctx);
  return ctx;
}

export function closeContext(ctx: AppContext): void {
  try {
    ctx.sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch {
    // :memory: databases have no WAL; a busy checkpoint is retried by SQLite on next open.
  }
  ctx.sqlite.close();
}

/**
 * AppContext: everything a service needs, built once by main.ts (or a test helper) and passed explicitly.
 * There are no module-level singletons: two apps in one process (as in tests) never share state.
 */
import type { Database } from "bun:sqlite";
import { LRUCache } from "lru-cache";
import type { Config } from "./config.ts";
import { type Db, openDatabase } from "./db/client.ts";
import { applyMigrations } from "./db/migrate.ts";
import type { DomainEvent } from "./events.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import { DomainEvents } from "./lib/events.ts";
import type { Logger } from "./lib/logger.ts";
import type { SessionInfo } from "./modules/sessions/service.ts";

export interface AppContext {
  readonly config: Readonly<Config>;
  readonly db: Db;
  readonly sqlite: Database;
  readonly log: Logger;
  readonly clock: Clock;
  readonly caches: Caches;
  /** Writes go through `events.transact` so that realtime, caches, webhooks and emails hear of them. */
  readonly events: DomainEvents<DomainEvent, Tx>;
}

/** A Drizzle transaction on the app database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** In-memory caches, bounded by entries and time; every write that changes a cached fact deletes its entry. */
export interface Caches {
  /** Session id → live session facts (src/modules/sessions/service.ts). */
  readonly sessions: LRUCache<string, SessionInfo>;
}

export function createCaches(): Caches {
  return { sessions: new LRUCache<string, SessionInfo>({ max: 50_000, ttl: 10_000 }) };
}

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
  return { config, db, sqlite, log, clock: options.clock ?? systemClock, caches: createCaches(), events };
}

export function closeContext(ctx: AppContext): void {
  try {
    ctx.sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch {
    // :memory: databases have no WAL; a busy checkpoint is retried by SQLite on next open.
  }
  ctx.sqlite.close();
}

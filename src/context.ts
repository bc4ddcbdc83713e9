/**
 * AppContext: every stateful part of Quire, built once by main.ts (or a test helper) and passed explicitly.
 * There are no module-level or per-owner singletons: two apps in one process (as in tests) share nothing.
 *
 * This file is the one place that picks implementations. The engine follows DATABASE_URL: `postgres://…` or
 * `postgresql://…` is Postgres (src/infra/postgres: a Bun.sql pool of DATABASE_POOL_SIZE, SERIALIZABLE units
 * of work), anything else an SQLite file or `:memory:` (src/infra/sqlite, the embedded default). Every other
 * component is in-process unless REDIS_URL is set: then the ones marked * are shared by every node through
 * Redis or Valkey (src/infra/redis/cluster.ts), and this process is one node of a cluster.
 *
 *   component   interface                              implementation
 *   store       Store (src/store)                      SQLite in-process (group commit) or Postgres (pool)
 *   events*     EventBus (src/lib/event-bus.ts)         in-process; listeners in src/listeners.ts;
 *                                                        cluster: replicated, acknowledged (redis/bus.ts)
 *   history*    TopicLog (src/lib/topic-history.ts)     in-process ring buffers per topic;
 *                                                        cluster: Redis streams + pub/sub (redis/history.ts)
 *   rateLimits* RateLimiter (src/lib/rate-limiter.ts)   in-process GCRA over a segmented LRU;
 *                                                        cluster: GCRA script on Redis (redis/rate-limiter.ts)
 *   caches      Caches (src/modules/cache)              in-process TTL caches, dropped by events (cluster:
 *                                                        bypassed while this node may miss events)
 *   sessions    SessionChecks (src/modules/sessions)    store + a short in-process cache (same)
 *   jobs        JobQueue (src/lib/queue.ts)             on the store's jobs table (cluster: busy nodes wake
 *                                                        the others through Redis)
 *   flags       FlagStore (src/modules/flags)           store + an in-process snapshot
 *   realtime    RealtimeHub (src/modules/realtime)      this process's sockets; connection caps per IP/user
 *                                                        in process, or over the cluster (redis/caps.ts)
 *   breakers    WebhookBreakers (src/modules/webhooks)  in-process circuit breakers
 *   metrics     AppMetrics (src/http/metrics.ts)        this process's Prometheus registry
 *   passwords   Passwords (src/lib/password.ts)         argon2id at the configured cost
 *   backups     Backups (src/modules/backups/run.ts)    one backup at a time, by this server
 *   engine      EngineOps (src/store/ops.ts)            SQLite: VACUUM INTO, WAL upkeep; Postgres: pg_dump, pool figures
 *   cluster     ClusterNode (src/lib/cluster.ts)        none; with REDIS_URL: readiness, metrics, leaving
 */
import type { Config } from "./config.ts";
import type { DomainEvent } from "./events.ts";
import { type AppMetrics, createAppMetrics } from "./http/metrics.ts";
import { postgresEngineOps } from "./infra/postgres/ops.ts";
import { openPostgresStore } from "./infra/postgres/store.ts";
import { openRedisCluster } from "./infra/redis/cluster.ts";
import { sqliteEngineOps } from "./infra/sqlite/ops.ts";
import { openSqliteStore } from "./infra/sqlite/store.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import type { ClusterNode } from "./lib/cluster.ts";
import { MemoryConnectionCaps } from "./lib/connection-caps.ts";
import { isPostgresUrl } from "./lib/database-url.ts";
import { EventBus } from "./lib/event-bus.ts";
import type { Logger } from "./lib/logger.ts";
import { Passwords } from "./lib/password.ts";
import { JobQueue } from "./lib/queue.ts";
import { MemoryRateLimiter, type RateLimiter } from "./lib/rate-limiter.ts";
import { MemoryTopicLog, type TopicLog } from "./lib/topic-history.ts";
import { registerListeners } from "./listeners.ts";
import { Backups, restoreBackupMetrics } from "./modules/backups/run.ts";
import { type Caches, createCaches } from "./modules/cache/index.ts";
import { FlagStore } from "./modules/flags/service.ts";
import { registerJobHandlers } from "./modules/jobs/setup.ts";
import { RealtimeHub } from "./modules/realtime/hub.ts";
import { SessionChecks } from "./modules/sessions/checks.ts";
import { WebhookBreakers } from "./modules/webhooks/deliver.ts";
import type { EngineOps } from "./store/ops.ts";
import type { Store, TransactionHooks, WriteTx } from "./store/store.ts";

export interface AppContext {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly clock: Clock;
  /** Typed repositories and units of work. Every write goes through `store.write`. */
  readonly store: Store;
  /** Domain events: handlers in the write's transaction, after its commit, on every node. */
  readonly events: EventBus<DomainEvent, WriteTx>;
  /** Realtime topics' sequence numbers and recent messages, for resume. */
  readonly history: TopicLog<number | undefined>;
  readonly rateLimits: RateLimiter;
  /** Content caches (articles, profiles, lists, tags, counts); writes drop what they change. */
  readonly caches: Caches;
  /** Is this session live, as whom: checked on every authenticated request and socket. */
  readonly sessions: SessionChecks;
  /** The durable job queue (outbox, email, webhooks, housekeeping); workers run only in `serve`. */
  readonly jobs: JobQueue;
  readonly flags: FlagStore;
  /** argon2id at the configured cost, with a decoy for unknown accounts. */
  readonly passwords: Passwords;
  /** Backups made by this server (one at a time). */
  readonly backups: Backups;
  readonly realtime: RealtimeHub;
  readonly breakers: WebhookBreakers;
  readonly metrics: AppMetrics;
  /** What only the engine can do: backups, size, upkeep. */
  readonly engine: EngineOps;
  /** Readiness facts: shutdown has begun (503 from then on); every migration was seen applied. */
  readonly readiness: { draining: boolean; migrated: boolean };
  /** The cluster this node belongs to (REDIS_URL), or undefined for a single node. */
  readonly cluster: ClusterNode | undefined;
}

export interface ContextOptions {
  clock?: Clock;
  /** Background WAL checkpoints (serve): see WAL_CHECKPOINT_INTERVAL_MS. Off unless asked for. */
  checkpoints?: boolean;
  /**
   * With REDIS_URL: this process serves requests (`serve`), so it joins the cluster as a member. Otherwise
   * (a CLI command) it only publishes its writes to the members.
   */
  member?: boolean;
}

/** How long a node waits for Redis before it treats it as unreachable (one command, or connecting). */
const REDIS_TIMEOUT_MS = 1_000;

/** Open the engine (migrations applied), build every component and register the listeners. */
export async function createContext(
  config: Readonly<Config>,
  log: Logger,
  options: ContextOptions = {},
): Promise<AppContext> {
  const clock = options.clock ?? systemClock;
  // The cluster calls back into the context (events another node committed, waking the workers here).
  let ctx: AppContext | undefined;
  const memoryLimiter = new MemoryRateLimiter(clock, config.RATE_LIMIT_MAX_KEYS);
  const caps = {
    perIp: config.REALTIME_MAX_CONNECTIONS_PER_IP,
    perUser: config.REALTIME_MAX_CONNECTIONS_PER_USER,
  };
  const cluster = config.REDIS_URL
    ? openRedisCluster<DomainEvent>({
        url: config.REDIS_URL,
        prefix: config.REDIS_KEY_PREFIX,
        log: log.child({ component: "cluster" }),
        member: options.member ?? false,
        commandTimeoutMs: REDIS_TIMEOUT_MS,
        history: {
          perTopic: config.REALTIME_HISTORY_SIZE,
          ttlMs: config.REALTIME_HISTORY_TTL_SECONDS * 1000,
        },
        caps,
        fallbackLimiter: memoryLimiter,
        apply: (events) => ctx?.events.received(events),
        missed: async () => ctx?.events.missed(),
        wake: () => ctx?.jobs.wakeHere(),
      })
    : undefined;
  const events = new EventBus<DomainEvent, WriteTx>({
    onHandlerError: (err, event) => log.error({ err, event: event?.type }, "event handler failed"),
    ...(cluster && { replicate: (committed: readonly DomainEvent[]) => cluster.bus.replicate(committed) }),
  });
  const { store, engine } = await openStore(config, log.child({ component: "store" }), events, options);
  // A cluster node answers from memory only while it hears every other node (src/infra/redis/bus.ts); a
  // client (a CLI command) never does.
  const trusted = cluster ? () => cluster.bus.trusted() : undefined;
  const history: TopicLog<number | undefined> =
    cluster?.history ??
    new MemoryTopicLog({
      perTopic: config.REALTIME_HISTORY_SIZE,
      maxAgeMs: config.REALTIME_HISTORY_TTL_SECONDS * 1000,
      maxBytes: config.REALTIME_HISTORY_MAX_BYTES,
      maxQuietTopics: 100_000,
      // Positions from before a restart are all lower than any from after it (see topic-history.ts).
      startSeq: clock.now() * 1000,
      now: () => clock.now(),
    });
  ctx = {
    config,
    log,
    clock,
    store,
    events,
    history,
    rateLimits: cluster?.rateLimits ?? memoryLimiter,
    caches: createCaches(config, clock, trusted),
    sessions: new SessionChecks(store, clock, {
      ttlMs: config.CACHE_TTL_MS,
      maxBytes: Math.floor(config.CACHE_MAX_BYTES * 0.05),
      trusted,
    }),
    jobs: new JobQueue({
      store,
      clock,
      log: log.child({ component: "jobs" }),
      concurrency: config.JOBS_CONCURRENCY,
      pollIntervalMs: config.JOBS_POLL_INTERVAL_MS,
      leaseMs: config.JOBS_LEASE_MS,
      maxAttempts: config.JOBS_MAX_ATTEMPTS,
      ...(cluster && { wakeOthers: () => cluster.bus.wakeOthers() }),
    }),
    flags: new FlagStore(store, config, log),
    passwords: new Passwords({
      memoryCost: config.PASSWORD_MEMORY_COST_KIB,
      timeCost: config.PASSWORD_TIME_COST,
    }),
    backups: new Backups(),
    realtime: undefined as unknown as RealtimeHub,
    breakers: new WebhookBreakers(config),
    metrics: undefined as unknown as AppMetrics,
    engine,
    readiness: { draining: false, migrated: false },
    cluster,
  };
  // These two read the rest of the context.
  const connectionCaps = cluster?.caps ?? new MemoryConnectionCaps(caps);
  Object.assign(ctx, { realtime: new RealtimeHub(ctx, connectionCaps), metrics: createAppMetrics(ctx) });
  restoreBackupMetrics(ctx);
  await ctx.flags.load();
  registerListeners(ctx);
  registerJobHandlers(ctx);
  await cluster?.start();
  return ctx;
}

/** The store DATABASE_URL names, migrated, and what only its engine can do. */
async function openStore(
  config: Readonly<Config>,
  log: Logger,
  hooks: TransactionHooks,
  options: ContextOptions,
): Promise<{ store: Store; engine: EngineOps }> {
  if (isPostgresUrl(config.DATABASE_URL)) {
    const store = await openPostgresStore({
      url: config.DATABASE_URL,
      hooks,
      poolSize: config.DATABASE_POOL_SIZE,
      onWarning: (message, detail) => log.warn(detail ?? {}, message),
    });
    try {
      return { store, engine: await postgresEngineOps(store, config.DATABASE_URL) };
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  const store = openSqliteStore({
    url: config.DATABASE_URL,
    hooks,
    checkpointIntervalMs: options.checkpoints ? config.WAL_CHECKPOINT_INTERVAL_MS : 0,
    log,
  });
  return { store, engine: sqliteEngineOps(store) };
}

/** Finish queued writes and close the engine (after the server and the workers have stopped). */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.store.close();
  await ctx.cluster?.close();
}

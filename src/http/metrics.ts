/**
 * `GET /metrics`: Prometheus text (prom-client) for this app context. Series:
 * - http_requests_total, http_request_duration_seconds {method, route, status}; http_requests_in_flight.
 *   `route` is the template, so cardinality is bounded by the route table (+ `(unmatched)`).
 * - quire_cache_* {cache}: hits, misses, evictions, entries, bytes (src/modules/cache `cacheStats`).
 * - quire_jobs {state}, quire_jobs_ready, quire_jobs_oldest_ready_age_seconds, quire_jobs_processed_total
 *   {outcome} (the job queue's `stats()`).
 * - quire_realtime_connections, quire_realtime_messages_total {direction}, quire_realtime_dropped_total
 *   (the realtime hub's `stats()`: connections, messagesIn, messagesOut, dropped).
 * - quire_rate_limit_rejections_total {policy}, quire_sqlite_busy_total {source}, quire_backups_total
 *   {outcome}, quire_backup_last_success_timestamp_seconds, quire_database_size_bytes.
 * - quire_build_info {version, bun, engine, platform}: always 1.
 * - quire_sqlite_checkpoint_failures_total, quire_sqlite_wal_bytes: background checkpoints that failed (the
 *   WAL then grows with every write) and the WAL file's size (src/infra/sqlite/checkpointer.ts).
 * - process_* and nodejs_* (collectDefaultMetrics on this app's own registry).
 *
 * Every label value known up front starts at 0, so the first event is an increase (an alert on
 * `increase(…[10m]) > 0` sees it; a series born at 1 would not). The last-backup time starts from the
 * newest backup in $DATA_DIR/backups, so a restart does not look like a missed backup.
 *
 * Access: open unless METRICS_TOKEN is set, then `Authorization: Bearer <token>` (constant-time compare),
 * 401 otherwise. Metrics reveal traffic shape, not content; still, keep the endpoint off the public network.
 * Register before the errors plugin: its onError observes errors (429s, SQLITE_BUSY) and returns nothing.
 */
import { timingSafeEqual } from "node:crypto";
import { Elysia, t } from "elysia";
// Imported (not read at run time) so the version is embedded in the compiled binary.
import pkg from "../../package.json" with { type: "json" };
import type { AppContext } from "../context.ts";
import { AppError } from "../errors.ts";
import type { CacheStats } from "../lib/cache.ts";
import { LATENCY_BUCKETS, Metrics } from "../lib/metrics.ts";
import { StoreUnavailable } from "../store/errors.ts";
import { documented } from "./docs.ts";
import { errorDoc } from "./model.ts";
import type { PolicyName } from "./rate-limit.ts";
import { responseStatus, UNMATCHED_ROUTE } from "./request-log.ts";
import { stateOf } from "./request-state.ts";

/** What the scrape-time readers need: every other component's own counters. */
type Observed = Pick<AppContext, "caches" | "sessions" | "jobs" | "realtime" | "engine" | "cluster">;

/** Every rate-limit policy (compile-time complete), for the series that start at 0. */
const rateLimitPolicies = Object.keys({
  ip: 0,
  user: 0,
  login: 0,
  register: 0,
  refresh: 0,
  "password-reset": 0,
  "account-token": 0,
  email: 0,
  export: 0,
} satisfies Record<PolicyName, 0>);

/** Where SQLITE_BUSY is counted. A new source is added here, so that it too starts at 0. */
const sqliteBusySources = ["http"] as const;
export type SqliteBusySource = (typeof sqliteBusySources)[number];

export type AppMetrics = ReturnType<typeof createAppMetrics>;

/** The metrics of one app context (its own Prometheus registry). */
export function createAppMetrics(ctx: Observed) {
  const m = new Metrics();
  // Observed once per request: three map lookups, no label object hashed (src/lib/metrics.ts).
  const requests = m.requestSeries({
    counter: { name: "http_requests_total", help: "HTTP requests answered." },
    histogram: {
      name: "http_request_duration_seconds",
      help: "Time from request arrival to response, by route template.",
      buckets: LATENCY_BUCKETS,
    },
    labelNames: ["method", "route", "status"],
  });
  // Plain numbers on the hot path, read at scrape time (and by the idle sweeper: src/cli/idle.ts).
  let inFlight = 0;
  let arrivals = 0;
  m.observedGauge({ name: "http_requests_in_flight", help: "Requests being processed now." }, () => [
    [{}, inFlight],
  ]);
  const http = {
    requests,
    arrived: () => {
      inFlight++;
      arrivals++;
    },
    finished: () => void inFlight--,
    /** Requests seen since start (upgrades excluded). */
    arrivals: () => arrivals,
  };
  const rateLimited = m.counter({
    name: "quire_rate_limit_rejections_total",
    help: "Requests refused with 429 by a rate-limit policy.",
    labelNames: ["policy"] as const,
  });
  const sqliteBusy = m.counter({
    name: "quire_sqlite_busy_total",
    help: "SQLITE_BUSY errors (the busy_timeout ran out), by where they were seen.",
    labelNames: ["source"] as const,
  });
  const backups = m.counter({
    name: "quire_backups_total",
    help: "Backups attempted, by outcome.",
    labelNames: ["outcome"] as const,
  });
  const lastBackup = m.gauge({
    name: "quire_backup_last_success_timestamp_seconds",
    help: "When the newest successful backup in DATA_DIR/backups finished (Unix time; 0: none).",
  });
  for (const policy of rateLimitPolicies) rateLimited.inc({ policy }, 0);
  for (const source of sqliteBusySources) sqliteBusy.inc({ source }, 0);
  for (const outcome of ["ok", "failed"]) backups.inc({ outcome }, 0);
  // The newest backup on disk sets lastBackup when the backups module starts (src/modules/backups/run.ts).
  m.gauge({
    name: "quire_build_info",
    help: "The running build: package version, Bun, the database engine and platform (always 1).",
    labelNames: ["version", "bun", "engine", "platform"] as const,
  }).set(
    {
      version: pkg.version,
      bun: Bun.version,
      engine: ctx.engine.description,
      platform: `${process.platform}-${process.arch}`,
    },
    1,
  );
  collectModuleStats(ctx, m);
  return { metrics: m, http, rateLimited, sqliteBusy, backups, lastBackup };
}

/** Scrape-time readers of the other modules' own counters. */
function collectModuleStats(ctx: Observed, m: Metrics): void {
  const caches = (): CacheStats[] => [
    ...Object.values(ctx.caches).map((c: { stats(): CacheStats }) => c.stats()),
    ctx.sessions.cache.stats(),
  ];
  const perCache = (key: "hits" | "misses" | "evictions" | "entries" | "bytes") => () =>
    caches().map((s): [{ cache: string }, number] => [{ cache: s.name }, s[key]]);
  const cache = ["cache"] as const;
  m.observedCounter(
    { name: "quire_cache_hits_total", help: "Cache hits.", labelNames: cache },
    perCache("hits"),
  );
  m.observedCounter(
    { name: "quire_cache_misses_total", help: "Cache misses.", labelNames: cache },
    perCache("misses"),
  );
  m.observedCounter(
    { name: "quire_cache_evictions_total", help: "Entries evicted to stay in bounds.", labelNames: cache },
    perCache("evictions"),
  );
  m.observedGauge(
    { name: "quire_cache_entries", help: "Entries cached.", labelNames: cache },
    perCache("entries"),
  );
  m.observedGauge(
    { name: "quire_cache_bytes", help: "Approximate bytes cached.", labelNames: cache },
    perCache("bytes"),
  );

  // One read per scrape, shared by the job series below (the first series to collect starts it).
  let jobs: ReturnType<AppContext["jobs"]["stats"]> | undefined;
  const jobStats = (fresh: boolean) => {
    if (fresh || !jobs) jobs = ctx.jobs.stats();
    return jobs;
  };
  m.observedGauge(
    { name: "quire_jobs", help: "Jobs in the queue by state (depth).", labelNames: ["state"] as const },
    async () => {
      const s = await jobStats(true);
      return (["pending", "running", "done", "dead"] as const).map((state) => [{ state }, s[state]]);
    },
  );
  m.observedGauge({ name: "quire_jobs_ready", help: "Pending jobs already due (backlog)." }, async () => [
    [{}, (await jobStats(false)).ready],
  ]);
  m.observedGauge(
    { name: "quire_jobs_oldest_ready_age_seconds", help: "How long the oldest due job has waited." },
    async () => [[{}, (await jobStats(false)).oldestReadyAgeMs / 1000]],
  );
  m.observedCounter(
    {
      name: "quire_jobs_processed_total",
      help: "Job runs finished by this process: completed, failed (will retry) or dead.",
      labelNames: ["outcome"] as const,
    },
    async () => Object.entries((await jobStats(false)).processed).map(([outcome, n]) => [{ outcome }, n]),
  );

  const realtime = () => ctx.realtime.stats();
  m.observedGauge({ name: "quire_realtime_connections", help: "Open WebSocket and SSE connections." }, () => [
    [{}, realtime().connections],
  ]);
  m.observedCounter(
    {
      name: "quire_realtime_messages_total",
      help: "Realtime messages received from (in) and sent to (out) clients.",
      labelNames: ["direction"] as const,
    },
    () => {
      const s = realtime();
      return [
        [{ direction: "in" }, s.messagesIn],
        [{ direction: "out" }, s.messagesOut],
      ];
    },
  );
  m.observedCounter(
    { name: "quire_realtime_dropped_total", help: "Realtime connections closed for falling behind." },
    () => [[{}, realtime().dropped]],
  );
  const cluster = ctx.cluster;
  if (cluster) {
    m.observedGauge(
      {
        name: "quire_cluster_members",
        help: "Member nodes of the cluster, as of this node's last heartbeat.",
      },
      () => [[{}, cluster.stats().members]],
    );
    m.observedGauge(
      {
        name: "quire_cluster_trusted",
        help: "1 while this node hears every other node (its caches answer); 0 while it bypasses them.",
      },
      () => [[{}, cluster.trusted() ? 1 : 0]],
    );
    m.observedCounter(
      {
        name: "quire_cluster_writes_total",
        help: "Writes of this node: events replicated, not published (Redis unreachable), or a member that did not acknowledge in time.",
        labelNames: ["outcome"] as const,
      },
      () => {
        const s = cluster.stats();
        return [
          [{ outcome: "replicated" }, s.replicated],
          [{ outcome: "undelivered" }, s.undelivered],
          [{ outcome: "ack_timeout" }, s.ackTimeouts],
        ];
      },
    );
    m.observedCounter(
      { name: "quire_cluster_gaps_total", help: "Times this node lost its Redis subscriber connection." },
      () => [[{}, cluster.stats().gaps]],
    );
  }
  m.observedGauge({ name: "quire_database_size_bytes", help: "Size of the database." }, async () => [
    [{}, await ctx.engine.sizeBytes()],
  ]);
  // The engine's own series (SQLite: checkpoint failures, WAL size).
  for (const metric of ctx.engine.metrics) {
    const read = async () => [[{}, await metric.read()] as [Record<string, string>, number]];
    if (metric.type === "counter") m.observedCounter({ name: metric.name, help: metric.help }, read);
    else m.observedGauge({ name: metric.name, help: metric.help }, read);
  }
}

/** Count an SQLITE_BUSY seen anywhere (a retry helper, the job queue); the errors path counts its own. */
export function countSqliteBusy(ctx: Pick<AppContext, "metrics">, source: SqliteBusySource): void {
  ctx.metrics.sqliteBusy.inc({ source });
}

/** The policy that refused: its item in the `RateLimit` header has no requests remaining. */
function refusingPolicy(header: unknown): string {
  const items = typeof header === "string" ? header.split(",") : [];
  const refused = items.find((i) => /;\s*r=0\b/.test(i)) ?? items.at(-1) ?? "";
  return /"([^"]+)"/.exec(refused)?.[1] ?? "unknown";
}

function authorized(expected: Buffer, header: string | null): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Request metrics and error observation. Mount early: before the errors plugin and every route. */
export const metricsPlugin = (ctx: AppContext) => {
  const { http, rateLimited, sqliteBusy } = ctx.metrics;
  return new Elysia({ name: "quire/metrics" })
    .onRequest(({ request }) => {
      const state = stateOf(request);
      // Upgrades become long-lived sockets, not requests: the realtime series count them.
      if (!state || request.headers.get("upgrade")) return;
      state.inFlight = true;
      http.arrived();
    })
    .onError({ as: "global" }, ({ error, set }) => {
      if (error instanceof AppError && error.status === 429 && "rate" in error.fields)
        rateLimited.inc({ policy: refusingPolicy(set.headers.ratelimit) });
      else {
        const cause = ctx.store.normaliseError(error);
        if (cause instanceof StoreUnavailable && cause.reason === "busy") sqliteBusy.inc({ source: "http" });
      }
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const state = stateOf(request);
      if (!state?.inFlight) return;
      state.inFlight = false;
      http.finished();
      const seconds = (performance.now() - state.startedAt) / 1000;
      http.requests.observe(
        request.method,
        route || UNMATCHED_ROUTE,
        responseStatus(set, responseValue),
        seconds,
      );
    });
};

/** `GET /metrics`. Mount after the errors plugin (routes only get the error handlers registered before them). */
export const metricsRoutes = (ctx: AppContext) => {
  const { metrics } = ctx.metrics;
  const token = ctx.config.METRICS_TOKEN === "" ? undefined : Buffer.from(ctx.config.METRICS_TOKEN);
  return new Elysia({ name: "quire/metrics-route" }).get(
    "/metrics",
    async ({ request }) => {
      if (token && !authorized(token, request.headers.get("authorization")))
        throw new AppError(
          401,
          { token: ["is missing or invalid"] },
          { "www-authenticate": 'Bearer realm="metrics"' },
        );
      return new Response(await metrics.text(), {
        headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
      });
    },
    {
      // Documentation only (the handler answers a Response, which Elysia does not validate).
      response: {
        200: documented(
          t.String({
            description: "Prometheus text exposition format",
            examples: [
              '# HELP http_requests_total HTTP requests answered.\n# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/api/articles",status="200"} 1027\n',
            ],
          }),
          { contentType: "text/plain" },
        ),
        401: errorDoc("METRICS_TOKEN is set and the request did not present it", {
          token: ["is missing or invalid"],
        }),
      },
      detail: {
        tags: ["Operations"],
        summary: "Prometheus metrics",
        description:
          "Prometheus text exposition format, for this process. Open unless METRICS_TOKEN is set; then it requires `Authorization: Bearer <METRICS_TOKEN>`. Keep it off the public network either way.",
        security: [{}, { MetricsToken: [] }],
      },
    },
  );
};

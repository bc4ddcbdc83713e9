/**
 * Every environment variable Quire reads: its TypeBox schema (with the default and the bounds) and the
 * sentence `--help` and the README's configuration table show. src/config.ts validates against it.
 */
import { Type as T, type TSchema } from "@sinclair/typebox";

const Port = T.Integer({ minimum: 0, maximum: 65535 });
const Positive = (d: number, max = Number.MAX_SAFE_INTEGER) =>
  T.Integer({ minimum: 1, maximum: max, default: d });
/** A feature-flag override from the environment (`QUIRE_FLAG_<NAME>`); empty means "use the database". */
const FlagOverride = T.Union([T.Literal(""), T.Literal("on"), T.Literal("off")], { default: "" });

/** Each variable: schema (with default), description (for --help and the README). */
export const configVars = {
  NODE_ENV: {
    schema: T.Union([T.Literal("development"), T.Literal("production"), T.Literal("test")], {
      default: "development",
    }),
    doc: "development | production | test. Production requires JWT_SECRET (for `serve`) and turns pretty logs off.",
  },
  PORT: { schema: { ...Port, default: 3000 }, doc: "TCP port to listen on (0 picks a free one)." },
  HOST: { schema: T.String({ minLength: 1, default: "0.0.0.0" }), doc: "Interface to bind." },
  DATA_DIR: {
    schema: T.String({ minLength: 1, default: "./data" }),
    doc: "Directory for the database, its backups and the generated development secret.",
  },
  DATABASE_URL: {
    schema: T.String({ default: "" }),
    doc: "Where the data lives: an SQLite file path (or `:memory:`), or a Postgres server as `postgres://user:password@host:5432/database` (or `postgresql://`; see Running on Postgres). Default: `$DATA_DIR/quire.db`.",
  },
  DATABASE_POOL_SIZE: {
    schema: Positive(10, 1000),
    doc: "Postgres only: most connections this process opens. A unit of work holds one for its transaction, a read one per statement; the server's max_connections must cover every process.",
  },
  REDIS_URL: {
    schema: T.String({ default: "" }),
    doc: "Redis (≥ 7) or Valkey server shared by the nodes of a cluster: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS, `redis+unix:///path`. Set: cluster mode (events, realtime history and fan-out, rate limits and connection caps shared by every node). Empty: this process keeps them itself (one node).",
  },
  REDIS_KEY_PREFIX: {
    schema: T.String({ minLength: 1, maxLength: 64, default: "quire:" }),
    doc: "Prefix of every Redis key and channel Quire uses, so that several deployments can share one server.",
  },
  JWT_SECRET: {
    schema: T.String({ default: "" }),
    doc: "HMAC key for access tokens, ≥ 32 bytes. Read by `serve` only (the one command that signs tokens): required in production; in development `serve` generates one and keeps it in `$DATA_DIR/jwt-secret`.",
  },
  JWT_TTL_SECONDS: {
    schema: Positive(2_592_000, 31_536_000),
    doc: "Access-token lifetime, never past the end of its session. The default lasts the whole session (SESSION_TTL_SECONDS), because RealWorld front ends never refresh; revocation does not depend on it (every request checks the session). Clients that refresh can ask for less, e.g. 900.",
  },
  JWT_ISSUER: { schema: T.String({ minLength: 1, default: "quire" }), doc: "`iss` claim set and required." },
  JWT_AUDIENCE: {
    schema: T.String({ minLength: 1, default: "quire-api" }),
    doc: "`aud` claim set and required.",
  },
  LOG_LEVEL: {
    schema: T.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => T.Literal(l)),
      { default: "info" },
    ),
    doc: "fatal | error | warn | info | debug | trace | silent.",
  },
  WAL_CHECKPOINT_INTERVAL_MS: {
    schema: T.Integer({ minimum: 0, maximum: 3_600_000, default: 250 }),
    doc: "`serve` checkpoints the WAL from a worker thread this often (at once while writes pour in), so no request waits on a checkpoint's fsync. 0: SQLite checkpoints inline every 1,000 pages.",
  },
  BODY_LIMIT_BYTES: { schema: Positive(1_048_576), doc: "Largest request body accepted; larger gets 413." },
  PASSWORD_MEMORY_COST_KIB: {
    schema: T.Integer({ minimum: 8, maximum: 4_194_304, default: 19_456 }),
    doc: "argon2id memory cost (KiB), at least 8 (argon2's floor). OWASP's recommended minimum is 19 MiB.",
  },
  PASSWORD_TIME_COST: { schema: Positive(2, 64), doc: "argon2id iterations." },
  DEFAULT_ROLE: {
    schema: T.Union([T.Literal("editor"), T.Literal("viewer")], { default: "editor" }),
    doc: "Role given to new accounts: editor (may write articles) or viewer.",
  },
  CORS_ORIGINS: {
    schema: T.String({ default: "" }),
    doc: "Comma-separated origins allowed by CORS (`*`: any origin; credentials are never allowed). Empty: none in production and test, `*` in development.",
  },
  CACHE_TTL_MS: {
    schema: T.Integer({ minimum: 0, maximum: 86_400_000, default: 30_000 }),
    doc: "Longest life of a cached article, profile, tag list or list page. Writes through the API invalidate at once; this bounds how long a write by another process (the CLI) goes unseen. 0 turns the caches off.",
  },
  CACHE_MAX_BYTES: {
    schema: Positive(33_554_432, 17_179_869_184),
    doc: "Memory budget of the content caches together (approximate: measured as the JSON they hold).",
  },
  CACHE_MAX_ENTRIES: {
    schema: Positive(5_000, 10_000_000),
    doc: "Most entries per content cache (each slot costs ~44 bytes up front; CACHE_MAX_BYTES usually binds first).",
  },
  SESSION_TTL_SECONDS: {
    schema: Positive(2_592_000, 31_536_000),
    doc: "Absolute lifetime of a session (a login and every refresh token rotated from it); then sign in again.",
  },
  REFRESH_TTL_SECONDS: {
    schema: Positive(1_209_600, 31_536_000),
    doc: "Lifetime of one refresh token, capped by SESSION_TTL_SECONDS: one not exchanged for this long is refused (the session's access tokens still work until they expire).",
  },
  REFRESH_REUSE_GRACE_SECONDS: {
    schema: T.Integer({ minimum: 0, maximum: 60, default: 5 }),
    doc: "A retired refresh token presented again within this many seconds of its rotation is refused (401) without ending the session, so a client racing its own refreshes keeps the winner. It never grants anything. 0: any reuse ends the session.",
  },
  TRUSTED_PROXIES: {
    schema: T.String({ default: "" }),
    doc: "Comma-separated proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses, CIDR ranges, or loopback | linklocal | uniquelocal. Empty: none (the TCP peer is the client).",
  },
  RATE_LIMIT_ENABLED: {
    schema: T.Union([T.Literal(""), T.Literal("true"), T.Literal("false")], { default: "" }),
    doc: "true | false. Empty: on, except when NODE_ENV=test.",
  },
  RATE_LIMIT_IP_PER_MINUTE: {
    schema: Positive(600, 1_000_000),
    doc: "Requests per minute per client IP (IPv6: per /64), all routes; also the burst a rested client may send at once.",
  },
  RATE_LIMIT_USER_PER_MINUTE: {
    schema: Positive(600, 1_000_000),
    doc: "Requests per minute per authenticated user, in addition to the IP limit.",
  },
  RATE_LIMIT_AUTH_PER_MINUTE: {
    schema: Positive(20, 1_000_000),
    doc: "Login, registration and token-refresh attempts per minute per client IP (each its own bucket).",
  },
  RATE_LIMIT_MAX_KEYS: {
    schema: Positive(100_000, 10_000_000),
    doc: "Rate-limit states kept in memory (clients, users); bounds memory under a flood of distinct addresses.",
  },
  REQUEST_IDLE_TIMEOUT_SECONDS: {
    schema: Positive(30, 255),
    doc: "A connection that sends or receives nothing for this long is closed (Bun's idleTimeout): slow clients cannot hold sockets open.",
  },
  // Background jobs, email, webhooks and feature flags (issue 6; src/modules/jobs, mail, webhooks, flags).
  JOBS_CONCURRENCY: {
    schema: Positive(4, 64),
    doc: "Jobs run at once by the in-process workers (`serve` only).",
  },
  JOBS_POLL_INTERVAL_MS: {
    schema: Positive(1_000, 3_600_000),
    doc: "How often idle workers look for due jobs. Jobs enqueued by this process wake them at once.",
  },
  JOBS_LEASE_MS: {
    schema: Positive(60_000, 86_400_000),
    doc: "A running job's lease, renewed while it runs; a job whose process died is run again once it lapses.",
  },
  JOBS_MAX_ATTEMPTS: {
    schema: Positive(5, 100),
    doc: "Attempts before a job is marked dead (webhook deliveries: WEBHOOK_MAX_ATTEMPTS).",
  },
  JOBS_DRAIN_MS: {
    schema: Positive(10_000, 600_000),
    doc: "On shutdown, how long running jobs get to finish before they are released for the next start.",
  },
  JOBS_RETENTION_DAYS: {
    schema: Positive(7, 3_650),
    doc: "Finished (done or dead) jobs and webhook delivery logs older than this are purged by housekeeping.",
  },
  AUDIT_RETENTION_DAYS: {
    schema: T.Integer({ minimum: 1, maximum: 36_500, default: 365 }),
    doc: "Audit-log entries (admin actions, logins, failed logins, token reuse) older than this are purged by housekeeping.",
  },
  HOUSEKEEPING_INTERVAL_MS: {
    schema: Positive(3_600_000, 604_800_000),
    doc: "Period of the housekeeping jobs (purge expired sessions, tokens, old jobs; WAL checkpoint, PRAGMA optimize).",
  },
  SMTP_URL: {
    schema: T.String({ default: "" }),
    doc: "smtp(s)://user:pass@host:port to send email through SMTP (nodemailer). Empty: the `log` transport writes messages to the log.",
  },
  MAIL_FROM: {
    schema: T.String({ minLength: 3, maxLength: 254, default: "Quire <no-reply@localhost>" }),
    doc: "From address of outgoing email.",
  },
  // The account lifecycle (issue 15; src/modules/accounts): password reset, email verification.
  APP_URL: {
    schema: T.String({ default: "" }),
    doc: "Base URL of the front end, for links in account emails: `<APP_URL>/reset-password?token=…` and `<APP_URL>/verify-email?token=…`. Empty: the emails carry the bare `token=…` for the client to submit.",
  },
  PASSWORD_RESET_TTL_SECONDS: {
    schema: T.Integer({ minimum: 60, maximum: 86_400, default: 1_800 }),
    doc: "A password-reset token works once, for this long after it was sent.",
  },
  EMAIL_VERIFICATION_TTL_SECONDS: {
    schema: T.Integer({ minimum: 300, maximum: 2_592_000, default: 259_200 }),
    doc: "An email-verification token works once, for this long after it was sent (a new one can be asked for).",
  },
  REQUIRE_VERIFIED_EMAIL_TO_WRITE: {
    schema: T.Boolean({ default: false }),
    doc: "true: accounts whose address is not verified are read-only (403 on article, comment, favorite, follow and profile writes). Off by default, so RealWorld front ends keep working.",
  },
  RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR: {
    schema: Positive(5, 1_000),
    doc: "Password-reset requests, and verification emails asked for again, per hour per email address (each its own bucket), on top of the per-IP limits.",
  },
  RATE_LIMIT_EXPORTS_PER_HOUR: {
    schema: Positive(6, 1_000),
    doc: "Data exports (`GET /api/user/export`) per hour per account: each reads the whole account, so it has a bucket of its own on top of the per-user limit.",
  },
  WEBHOOK_TIMEOUT_MS: {
    schema: Positive(10_000, 120_000),
    doc: "A webhook delivery (connect, send, response headers and capped body) is abandoned after this long.",
  },
  WEBHOOK_MAX_ATTEMPTS: {
    schema: Positive(8, 100),
    doc: "Attempts per webhook delivery (backoff 10 s × 4ⁿ with jitter, capped at 12 h) before it is dead.",
  },
  WEBHOOK_BREAKER_THRESHOLD: {
    schema: Positive(5, 1_000),
    doc: "Consecutive failed deliveries that open an endpoint's circuit (its deliveries then wait without a request).",
  },
  WEBHOOK_BREAKER_HALF_OPEN_MS: {
    schema: Positive(30_000, 86_400_000),
    doc: "How long an endpoint's open circuit waits before one trial delivery.",
  },
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: {
    schema: T.Boolean({ default: false }),
    doc: "true: webhook URLs may point at loopback, private and link-local addresses (tests, development). Never in production.",
  },
  QUIRE_FLAG_REGISTRATION: { schema: FlagOverride, doc: "on | off: overrides the `registration` flag." },
  QUIRE_FLAG_COMMENTS: { schema: FlagOverride, doc: "on | off: overrides the `comments` flag." },
  QUIRE_FLAG_REALTIME: { schema: FlagOverride, doc: "on | off: overrides the `realtime` flag." },
  QUIRE_FLAG_MAINTENANCE: { schema: FlagOverride, doc: "on | off: overrides the `maintenance` flag." },
  // Realtime: WebSocket and SSE live updates (issue 4; src/modules/realtime).
  REALTIME_MAX_MESSAGE_BYTES: {
    schema: Positive(65_536, 16_777_216),
    doc: "Largest WebSocket message a client may send; a larger one closes the socket with 1009.",
  },
  REALTIME_MAX_SUBSCRIPTIONS: {
    schema: Positive(100, 10_000),
    doc: "Topics one connection may subscribe to (SSE: topics in one request).",
  },
  REALTIME_MESSAGES_PER_SECOND: {
    schema: Positive(20, 100_000),
    doc: "Client messages per second per WebSocket, refilled continuously; past the burst, messages get a `rate_limited` error, and a further burst of them closes the socket with 1008.",
  },
  REALTIME_MESSAGE_BURST: {
    schema: Positive(100, 100_000),
    doc: "Client messages a rested WebSocket may send at once.",
  },
  REALTIME_MAX_CONNECTIONS: {
    schema: Positive(20_000, 1_000_000),
    doc: "Realtime connections (WebSocket and SSE) the server holds at once; more get 503.",
  },
  REALTIME_MAX_CONNECTIONS_PER_IP: {
    schema: Positive(100, 1_000_000),
    doc: "Realtime connections per client IP (IPv6: per /64); more get 429.",
  },
  REALTIME_MAX_CONNECTIONS_PER_USER: {
    schema: Positive(20, 1_000_000),
    doc: "Realtime connections per authenticated user; more get 429.",
  },
  REALTIME_IDLE_TIMEOUT_SECONDS: {
    schema: Positive(60, 3_600),
    doc: "A WebSocket that sends nothing (not even a pong to the server's pings, sent after half this time) for this long is closed with 4002.",
  },
  REALTIME_SEND_BUFFER_BYTES: {
    schema: Positive(1_048_576, 268_435_456),
    doc: "Bytes queued for one connection beyond what the OS socket buffer holds; a slower consumer is closed with 4008 and should resume with `since`.",
  },
  REALTIME_HISTORY_SIZE: {
    schema: Positive(500, 100_000),
    doc: "Events kept per topic for resuming (`since`, `Last-Event-ID`).",
  },
  REALTIME_HISTORY_TTL_SECONDS: {
    schema: Positive(300, 86_400),
    doc: "Events older than this are no longer replayed; resuming from before them gets `reset`.",
  },
  REALTIME_HISTORY_MAX_BYTES: {
    schema: Positive(33_554_432, 4_294_967_296),
    doc: "Total size of kept events over all topics; the oldest go first.",
  },
  // Operations: shutdown, metrics, traces, backups (issue 7; src/lib/shutdown.ts, src/http, src/modules/backups).
  SHUTDOWN_GRACE_MS: {
    schema: Positive(10_000, 600_000),
    doc: "On SIGTERM/SIGINT, how long in-flight requests get to finish before their connections are cut (exit 1 then).",
  },
  SHUTDOWN_DELAY_MS: {
    schema: T.Integer({ minimum: 0, maximum: 120_000, default: 0 }),
    doc: "On SIGTERM/SIGINT, how long to keep accepting requests with /health/ready answering 503 before closing the listener, so a load balancer stops routing here first. 0 for a single server.",
  },
  METRICS_TOKEN: {
    schema: T.String({ default: "" }),
    doc: "If set, GET /metrics requires `Authorization: Bearer <token>` (401 otherwise). Empty: /metrics is open; keep it off the public network.",
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: T.String({ default: "" }),
    doc: "OTLP/HTTP collector base URL (e.g. http://localhost:4318). Set: requests are traced with OpenTelemetry. Empty: tracing is off and its code is never loaded.",
  },
  OTEL_SERVICE_NAME: { schema: T.String({ minLength: 1, default: "quire" }), doc: "Service name on traces." },
  BACKUP_INTERVAL_MINUTES: {
    schema: T.Integer({ minimum: 0, maximum: 525_600, default: 0 }),
    doc: "Take a backup into `$DATA_DIR/backups` every this many minutes while serving. 0: no scheduled backups.",
  },
  BACKUP_KEEP: {
    schema: Positive(7, 10_000),
    doc: "Scheduled backups kept in `$DATA_DIR/backups`; older ones are deleted after each new one.",
  },
} as const satisfies Record<string, { schema: TSchema; doc: string }>;

/**
 * `quire serve`: build the context and the app, listen, and shut down gracefully on SIGTERM/SIGINT in the
 * order of src/lib/shutdown.ts (readiness 503, WebSockets 1001, listener closed, in-flight requests and job
 * workers drained within SHUTDOWN_GRACE_MS, WAL checkpoint, database closed). Resolves with the exit code:
 * 0 after a clean drain, 1 if requests had to be cut.
 */
import { createApp } from "../app.ts";
import type { Config } from "../config.ts";
import { closeContext, createContext } from "../context.ts";
import { markDraining } from "../http/health.ts";
import { loadTelemetry } from "../http/telemetry.ts";
import { claimPostgresServe, PostgresInUse } from "../infra/postgres/serve-guard.ts";
import { isPostgresUrl } from "../lib/database-url.ts";
import type { Logger } from "../lib/logger.ts";
import { onShutdownSignals, shutdownGracefully } from "../lib/shutdown.ts";
import { scheduleBackups } from "../modules/backups/run.ts";
import { startJobs, stopJobs } from "../modules/jobs/setup.ts";
import { closeAllSockets } from "../modules/realtime/hub.ts";
import { startIdleSweeper } from "./idle.ts";
import { claimServeLock, DatabaseInUse } from "./lock.ts";

export async function serve(config: Readonly<Config>, log: Logger): Promise<number> {
  // First of all, before migrating: one server per database (src/cli/lock.ts).
  let releaseLock: () => void;
  try {
    releaseLock = claimServeLock(config.DATABASE_URL, (message) => log.error(message));
  } catch (err) {
    if (!(err instanceof DatabaseInUse)) throw err;
    process.stderr.write(`quire: ${err.message}; stop it first, or give this one its own DATA_DIR\n`);
    return 1;
  }
  try {
    // Postgres: one single node per database, or the members of one cluster (src/infra/postgres/serve-guard.ts).
    let releaseGuard = async () => {};
    if (isPostgresUrl(config.DATABASE_URL)) {
      try {
        releaseGuard = await claimPostgresServe({
          url: config.DATABASE_URL,
          cluster: config.REDIS_URL !== "",
          // Another server took the database while Postgres was away: two single nodes must never serve it,
          // so this one shuts down (gracefully, as on SIGTERM); its supervisor's restart is then refused.
          onLost: (message) => {
            log.error(`${message}; shutting down`);
            process.kill(process.pid, "SIGTERM");
          },
        });
      } catch (err) {
        if (!(err instanceof PostgresInUse)) throw err;
        process.stderr.write(`quire: ${err.message}\n`);
        return 1;
      }
    }
    try {
      return await serveClaimed(config, log);
    } finally {
      await releaseGuard();
    }
  } finally {
    releaseLock();
  }
}

/** Resolves after the shutdown (or a failed start), with the exit code. */
async function serveClaimed(config: Readonly<Config>, log: Logger): Promise<number> {
  // Before the app: the tracing plugin must wrap every route.
  const telemetry = await loadTelemetry(config, log);
  // WAL checkpoints in a worker thread, so no request waits for the fsync of one
  // (src/infra/sqlite/checkpointer.ts), started by the first commit: a server that only reads never pays.
  // With REDIS_URL it is a member of the cluster (a CLI command only publishes its writes).
  const ctx = await createContext(config, log, { checkpoints: true, member: true });
  scheduleBackups(ctx);
  const app = createApp(ctx, { telemetry: telemetry.plugin });
  try {
    app.listen({
      port: config.PORT,
      hostname: config.HOST,
      // Our body plugin answers oversize bodies with 413 in the API's envelope; Bun's own limit is only a
      // backstop against a client that streams without Content-Length, so it sits well above ours.
      maxRequestBodySize: config.BODY_LIMIT_BYTES * 2 + 65_536,
      // Elysia defaults to SO_REUSEPORT, which would let a second instance share the port silently.
      reusePort: false,
      // Request timeout: Bun closes a connection idle (nothing sent or received) this long, so a client
      // that trickles headers or a body, or never reads the answer, cannot hold sockets (slowloris).
      idleTimeout: config.REQUEST_IDLE_TIMEOUT_SECONDS,
      development: config.NODE_ENV === "development",
    });
  } catch (err) {
    // A bind failure (EADDRINUSE, EACCES, EADDRNOTAVAIL): one line that says what to change, no stack.
    // Anything else (the app failing to compile its routes) is a bug: logged with its stack.
    const reason = bindProblem(err, config.HOST, config.PORT);
    if (reason) process.stderr.write(`quire: ${reason}\n`);
    else log.fatal({ err }, `cannot start the server on ${config.HOST}:${config.PORT}`);
    await closeContext(ctx);
    await telemetry.shutdown();
    return 1;
  }
  const server = app.server!;
  const stopSweeper = startIdleSweeper(ctx);
  // The socket's own address (`localhost` → 127.0.0.1); Bun 1.4 has it at run time, not yet in its types.
  const bound = (server as { address?: { address: string; port: number } }).address;
  const { address, port } = bound ?? { address: server.hostname ?? config.HOST, port: server.port ?? 0 };

  return new Promise<number>((resolve) => {
    // Signal handlers first: whoever reads the start line below may send SIGTERM at once.
    onShutdownSignals(
      async (signal) => {
        log.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, "shutting down");
        const code = await shutdownGracefully(
          {
            drain: () => markDraining(ctx),
            // 1001 so clients reconnect (elsewhere) and resume; Bun's stop() would wait on them forever.
            closeSockets: () => closeAllSockets(ctx),
            // Closes the listener (new connections are refused), resolves when in-flight requests are done.
            stopServer: () => app.stop(),
            forceClose: () => void server.stop(true),
            // Running jobs finish or are released (JOBS_DRAIN_MS); the last spans are flushed.
            stopWorkers: () => Promise.all([stopJobs(ctx), telemetry.shutdown()]),
            close: () => {
              stopSweeper();
              return closeContext(ctx);
            },
          },
          { graceMs: config.SHUTDOWN_GRACE_MS, delayMs: config.SHUTDOWN_DELAY_MS, log },
        );
        log.info({ exitCode: code }, "stopped");
        resolve(code);
      },
      { log },
    );
    log.info({ address, port, url: localUrl(address, port) }, `listening on ${describeBind(address, port)}`);
    startJobs(ctx).catch((err) => log.error({ err }, "job workers failed to start"));
  });
}

const hostPart = (host: string) => (host.includes(":") ? `[${host}]` : host);

/** Where a browser on this machine reaches the server: a wildcard address is not somewhere to go. */
function localUrl(address: string, port: number): string {
  const host = address === "0.0.0.0" ? "127.0.0.1" : address === "::" ? "::1" : address;
  return `http://${hostPart(host)}:${port}`;
}

/** What is bound (the socket's own address and port, so PORT=0 shows the real one) and what that means. */
function describeBind(address: string, port: number): string {
  const bound = `http://${hostPart(address)}:${port}`;
  if (address === "0.0.0.0")
    return `${bound}: every IPv4 interface (on this machine: ${localUrl(address, port)})`;
  if (address === "::")
    return `${bound}: every interface, IPv6 and IPv4 (on this machine: ${localUrl(address, port)})`;
  return bound;
}

function bindProblem(err: unknown, host: string, port: number): string | undefined {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case "EADDRINUSE":
      return `port ${port} is already in use on ${host} (set PORT or --port)`;
    case "EACCES":
      return `no permission to listen on port ${port} on ${host}: ports below 1024 need privileges (set PORT or --port)`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${host}: no interface of this machine has that address (set HOST or --host)`;
    default:
      return undefined;
  }
}

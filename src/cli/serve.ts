/**
 * `quire serve`: build the context and the app, listen, and shut down gracefully on SIGTERM/SIGINT in the
 * order of src/lib/shutdown.ts (readiness 503, WebSockets 1001, listener closed, in-flight requests and job
 * workers drained within SHUTDOWN_GRACE_MS, WAL checkpoint, database closed). Resolves with the exit code:
 * 0 after a clean drain, 1 if requests had to be cut.
 */
import { createApp } from "../app.ts";
import type { Config } from "../config.ts";
import { closeContext, createContext } from "../context.ts";
import { type Checkpointer, startCheckpointer } from "../db/checkpointer.ts";
import { markDraining } from "../http/health.ts";
import { loadTelemetry } from "../http/telemetry.ts";
import type { Logger } from "../lib/logger.ts";
import { onShutdownSignals, shutdownGracefully } from "../lib/shutdown.ts";
import { scheduleBackups } from "../modules/backups/run.ts";
import { startJobs, stopJobs } from "../modules/jobs/setup.ts";
import { closeAllSockets } from "../modules/realtime/hub.ts";
import { holdServeLock } from "./lock.ts";

export async function serve(config: Readonly<Config>, log: Logger): Promise<number> {
  // Before the app: the tracing plugin must wrap every route.
  const telemetry = await loadTelemetry(config, log);
  const ctx = createContext(config, log);
  // WAL checkpoints in a worker thread, so no request waits for the fsync of one (src/db/checkpointer.ts).
  // Started by the first committed write: a server that only reads never pays for the thread.
  let checkpointer: Checkpointer | undefined;
  if (config.DATABASE_URL !== ":memory:" && config.WAL_CHECKPOINT_INTERVAL_MS > 0) {
    ctx.events.on({
      afterCommit() {
        checkpointer ??= startCheckpointer(
          ctx.sqlite,
          config.DATABASE_URL,
          config.WAL_CHECKPOINT_INTERVAL_MS,
          log,
        );
      },
    });
  }
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
    // A bind failure (EADDRINUSE, EACCES) or the app failing to compile its routes.
    log.fatal({ err }, `cannot start the server on ${config.HOST}:${config.PORT}`);
    await checkpointer?.stop();
    closeContext(ctx);
    await telemetry.shutdown();
    return 1;
  }
  // Tells `quire restore` that this database is in use.
  const releaseLock = holdServeLock(config.DATABASE_URL);
  const server = app.server!;
  // The bound port, not the configured one, so PORT=0 prints where it really is.
  const url = `http://${displayHost(config.HOST)}:${server.port}`;
  log.info({ url }, `listening on ${url}`);
  startJobs(ctx);

  return new Promise<number>((resolve) => {
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
            stopWorkers: () => Promise.all([stopJobs(ctx), telemetry.shutdown(), checkpointer?.stop()]),
            close: () => {
              closeContext(ctx);
              releaseLock();
            },
          },
          { graceMs: config.SHUTDOWN_GRACE_MS, delayMs: config.SHUTDOWN_DELAY_MS, log },
        );
        log.info({ exitCode: code }, "stopped");
        resolve(code);
      },
      { log },
    );
  });
}

/** A wildcard bind address is not somewhere a browser can go; show loopback instead. */
function displayHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

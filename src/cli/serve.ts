/**
 * `quire serve`: build the context and the app, listen, and shut down gracefully on SIGTERM/SIGINT.
 * Resolves with the process exit code once the server has stopped and the database is closed.
 */
import { createApp } from "../app.ts";
import type { Config } from "../config.ts";
import { closeContext, createContext } from "../context.ts";
import type { Logger } from "../lib/logger.ts";

/** How long in-flight requests (and open WebSockets, which Bun's stop() waits on forever) get to finish. */
const DRAIN_MS = 10_000;

export async function serve(config: Readonly<Config>, log: Logger): Promise<number> {
  const ctx = createContext(config, log);
  const app = createApp(ctx);
  try {
    app.listen({
      port: config.PORT,
      hostname: config.HOST,
      // Our body plugin answers oversize bodies with 413 in the API's envelope; Bun's own limit is only a
      // backstop against a client that streams without Content-Length, so it sits well above ours.
      maxRequestBodySize: config.BODY_LIMIT_BYTES * 2 + 65_536,
      // Elysia defaults to SO_REUSEPORT, which would let a second instance share the port silently.
      reusePort: false,
      development: config.NODE_ENV === "development",
    });
  } catch (err) {
    log.fatal({ err }, `cannot listen on ${config.HOST}:${config.PORT}`);
    closeContext(ctx);
    return 1;
  }
  const server = app.server!;
  // The bound port, not the configured one, so PORT=0 prints where it really is.
  const url = `http://${displayHost(config.HOST)}:${server.port}`;
  log.info({ url }, `listening on ${url}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting without draining");
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, "shutting down");
      // app.stop() closes the listener, waits for connections, then runs plugins' onStop hooks once.
      const stopped = app.stop();
      let timer: Timer | undefined;
      const deadline = new Promise<"timeout">((r) => {
        timer = setTimeout(r, DRAIN_MS, "timeout");
      });
      if ((await Promise.race([stopped, deadline])) === "timeout") {
        log.warn({ drainMs: DRAIN_MS }, "connections still open after the deadline: closing them");
        server.stop(true); // settles the pending stop() above
      }
      clearTimeout(timer);
      await stopped;
      closeContext(ctx);
      log.info("stopped");
      resolve(0);
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
  });
}

/** A wildcard bind address is not somewhere a browser can go; show loopback instead. */
function displayHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

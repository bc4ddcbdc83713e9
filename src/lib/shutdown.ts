/**
 * Graceful shutdown in a fixed order, framework-free (the caller supplies each step):
 *
 *   1. drain        readiness answers 503 at once (load balancers stop sending new work)
 *   2. delay        optionally keep serving for `delayMs` so they notice (0 on a single server)
 *   3. sockets      long-lived connections (WebSockets: 1001) are closed: the server's stop waits for them
 *   4. stop         the listener closes (new connections are refused) and in-flight requests finish;
 *                   background workers drain meanwhile, in parallel
 *   5. deadline     requests still running after `graceMs` have their connections cut (exit code 1)
 *   6. close        storage is flushed and closed (WAL checkpoint, database close)
 *
 * A second signal exits at once with 1; a watchdog does the same if the steps themselves hang (a worker
 * that never stops), so an orchestrator's stop never has to fall back to SIGKILL. Both are safe for the
 * data: SQLite in WAL mode recovers committed transactions on the next open.
 */

export interface ShutdownSteps {
  drain(): void;
  closeSockets(): void;
  /** Stop accepting and resolve once in-flight requests have finished. */
  stopServer(): Promise<unknown>;
  /** Cut whatever connections are still open (settles stopServer). */
  forceClose(): void;
  stopWorkers(): Promise<unknown>;
  /** Flush and close storage (the store finishes what is queued first). */
  close(): void | Promise<void>;
}

export interface ShutdownLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ShutdownOptions {
  graceMs: number;
  delayMs?: number;
  /** Extra time past delay + grace for workers and close before the watchdog exits. */
  watchdogMarginMs?: number;
  log: ShutdownLog;
  exit?: (code: number) => void;
}

/** Run the steps once; resolves with the exit code: 0 when everything finished in time, 1 when cut. */
export async function shutdownGracefully(steps: ShutdownSteps, options: ShutdownOptions): Promise<number> {
  const { graceMs, delayMs = 0, log } = options;
  const exit = options.exit ?? ((code) => process.exit(code));
  const started = performance.now();
  const watchdog = setTimeout(
    () => {
      log.warn({ afterMs: Math.round(performance.now() - started) }, "shutdown is stuck: exiting now");
      exit(1);
    },
    delayMs + graceMs + (options.watchdogMarginMs ?? 10_000),
  );
  watchdog.unref?.();

  steps.drain();
  if (delayMs > 0) {
    log.info({ delayMs }, "draining: readiness is 503, still accepting");
    await Bun.sleep(delayMs);
  }
  steps.closeSockets();
  const stopped = steps.stopServer();
  const workers = steps.stopWorkers();
  let timer: Timer | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(resolve, graceMs, "timeout");
  });
  const forced = (await Promise.race([stopped, deadline])) === "timeout";
  clearTimeout(timer);
  if (forced) {
    log.warn({ graceMs }, "requests still running after the grace period: closing their connections");
    steps.forceClose();
  }
  await stopped;
  await workers;
  await steps.close();
  clearTimeout(watchdog);
  return forced ? 1 : 0;
}

/**
 * Call `onFirst` on the first SIGTERM/SIGINT; on a second one, log and exit(1) without waiting. Returns a
 * function removing the handlers.
 */
export function onShutdownSignals(
  onFirst: (signal: NodeJS.Signals) => void | Promise<void>,
  options: { log: ShutdownLog; exit?: (code: number) => void; signals?: NodeJS.Signals[] },
): () => void {
  const exit = options.exit ?? ((code) => process.exit(code));
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      options.log.warn({ signal, first: received }, "second signal: exiting without draining");
      exit(1);
      return;
    }
    received = signal;
    Promise.resolve(onFirst(signal)).catch((err) => {
      options.log.warn({ err, signal }, "shutdown failed: exiting");
      exit(1);
    });
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

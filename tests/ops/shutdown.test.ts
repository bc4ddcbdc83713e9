/** The shutdown sequence (src/lib/shutdown.ts) with recorded steps: order, deadline, watchdog, signals. */
import { describe, expect, test } from "bun:test";
import { onShutdownSignals, type ShutdownSteps, shutdownGracefully } from "../../src/lib/shutdown.ts";

const quiet = { info() {}, warn() {} };

function recorder(stopServer: () => Promise<unknown>) {
  const calls: string[] = [];
  let settle: (() => void) | undefined;
  const steps: ShutdownSteps = {
    drain: () => void calls.push("drain"),
    closeSockets: () => void calls.push("sockets"),
    stopServer: () => {
      calls.push("stop");
      return Promise.race([stopServer(), new Promise<void>((r) => (settle = r))]).then(() =>
        calls.push("stopped"),
      );
    },
    forceClose: () => {
      calls.push("force");
      settle?.();
    },
    stopWorkers: async () => {
      calls.push("workers");
      await Bun.sleep(5);
      calls.push("workers-done");
    },
    close: () => void calls.push("close"),
  };
  return { calls, steps };
}

describe("shutdownGracefully", () => {
  test("in order; exit 0 when requests finish within the grace period", async () => {
    const { calls, steps } = recorder(() => Bun.sleep(20));
    const code = await shutdownGracefully(steps, {
      graceMs: 1_000,
      log: quiet,
      exit: () => calls.push("exit"),
    });
    expect(code).toBe(0);
    expect(calls).toEqual(["drain", "sockets", "stop", "workers", "workers-done", "stopped", "close"]);
  });

  test("the delay keeps serving (readiness already 503) before the listener closes", async () => {
    const { calls, steps } = recorder(async () => {});
    const started = performance.now();
    const done = shutdownGracefully(steps, { graceMs: 1_000, delayMs: 60, log: quiet });
    await Bun.sleep(20);
    expect(calls).toEqual(["drain"]);
    expect(await done).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(calls.at(-1)).toBe("close");
  });

  test("past the grace period connections are cut, storage still closed, exit 1", async () => {
    const { calls, steps } = recorder(() => new Promise(() => {})); // a request that never ends
    const code = await shutdownGracefully(steps, { graceMs: 30, log: quiet });
    expect(code).toBe(1);
    expect(calls.indexOf("force")).toBeGreaterThan(calls.indexOf("stop"));
    expect(calls.at(-1)).toBe("close");
  });

  test("the watchdog exits 1 if a step hangs", async () => {
    const exits: number[] = [];
    const { steps } = recorder(async () => {});
    steps.stopWorkers = () => new Promise(() => {}); // a worker that never stops
    void shutdownGracefully(steps, {
      graceMs: 10,
      watchdogMarginMs: 20,
      log: quiet,
      exit: (c) => exits.push(c),
    });
    await Bun.sleep(80);
    expect(exits).toEqual([1]);
  });
});

describe("onShutdownSignals", () => {
  test("first signal starts the shutdown once; a second exits 1 at once", async () => {
    const started: string[] = [];
    const exits: number[] = [];
    const remove = onShutdownSignals((s) => void started.push(s), {
      log: quiet,
      exit: (c) => exits.push(c),
      signals: ["SIGUSR2"],
    });
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      expect(started).toEqual(["SIGUSR2"]);
      expect(exits).toEqual([]);
      process.emit("SIGUSR2", "SIGUSR2");
      expect(started).toEqual(["SIGUSR2"]);
      expect(exits).toEqual([1]);
    } finally {
      remove();
    }
  });
});

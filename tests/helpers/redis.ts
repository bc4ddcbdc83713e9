/**
 * A throwaway Redis for tests: Debian's `redis-server` (or `valkey-server`) started on a free loopback port
 * with no persistence, stopped after. Tests that need it skip, with one line saying why, where neither
 * binary is installed (.ci/run installs redis-server).
 */
import { RedisClient } from "bun";

export interface TestRedis {
  url: string;
  port: number;
  /** A client for asserting state and injecting faults. */
  admin(): RedisClient;
  /** SIGKILL, then start again on the same port (empty: no persistence). */
  restart(downMs?: number): Promise<void>;
  /** Stop it; `start()` brings it back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const redisBinary = Bun.which("redis-server") ?? Bun.which("valkey-server");

/** For `describe.skipIf(!redisBinary)`: say once why the Redis tests do not run. */
export function skipWithoutRedis(): boolean {
  if (!redisBinary) console.warn("skipping the Redis tests: no redis-server or valkey-server on PATH");
  return !redisBinary;
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function startRedis(): Promise<TestRedis> {
  if (!redisBinary) throw new Error("no redis-server");
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: Bun.Subprocess | undefined;
  const clients: RedisClient[] = [];

  const start = async () => {
    proc = Bun.spawn(
      [redisBinary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdout: "ignore", stderr: "ignore" },
    );
    const probe = new RedisClient(url, { autoReconnect: false, connectionTimeout: 200 });
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        if ((await probe.send("PING", [])) === "PONG") break;
      } catch {
        await Bun.sleep(20);
      }
    }
    probe.close();
  };
  const kill = async () => {
    proc?.kill("SIGKILL");
    await proc?.exited;
    proc = undefined;
  };
  await start();
  return {
    url,
    port,
    admin() {
      const client = new RedisClient(url);
      clients.push(client);
      return client;
    },
    async restart(downMs = 0) {
      await kill();
      if (downMs > 0) await Bun.sleep(downMs);
      await start();
    },
    kill,
    start,
    async stop() {
      for (const c of clients) c.close();
      await kill();
    },
  };
}

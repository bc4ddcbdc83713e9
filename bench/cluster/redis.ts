/** A throwaway redis-server (or valkey-server) for the benchmarks, unless REDIS_URL names one. */
import { RedisClient } from "bun";

export interface BenchRedis {
  url: string;
  version: string;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<BenchRedis> {
  const given = process.env.REDIS_URL;
  const describe = async (url: string) => {
    const client = new RedisClient(url);
    const info = (await client.send("INFO", ["server"])) as string;
    client.close();
    const name = /server_name:(\w+)/.exec(info)?.[1] ?? "redis";
    return `${name} ${/(?:valkey|redis)_version:([\d.]+)/.exec(info)?.[1] ?? "?"}`;
  };
  if (given) return { url: given, version: await describe(given), stop: async () => {} };
  const binary = Bun.which("redis-server") ?? Bun.which("valkey-server");
  if (!binary) throw new Error("no redis-server or valkey-server on PATH (or set REDIS_URL)");
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const proc = Bun.spawn(
    [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = new RedisClient(url, { autoReconnect: false, connectionTimeout: 200 });
      await c.connect();
      c.close();
      break;
    } catch {
      await Bun.sleep(20);
    }
  }
  return {
    url,
    version: await describe(url),
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

/** Node processes for the cluster benchmarks (bench/cluster/node.ts), each printing `listening <port>`. */
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

export interface Proc {
  port: number;
  proc: Bun.Subprocess<"ignore", "pipe", "inherit">;
}

export async function startNode(env: Record<string, string>): Promise<Proc> {
  const proc = Bun.spawn([process.execPath, join(root, "bench/cluster/node.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      JWT_SECRET: "bench-cluster-secret-0123456789-abcdefghij",
      LOG_LEVEL: "warn",
      RATE_LIMIT_ENABLED: "false",
      PASSWORD_MEMORY_COST_KIB: "1024",
      PASSWORD_TIME_COST: "1",
      ...env,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`a node exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { port: Number(/listening (\d+)/.exec(text)![1]), proc };
}

export async function stopAll(nodes: Proc[]): Promise<void> {
  for (const n of nodes) n.proc.kill("SIGTERM");
  await Promise.all(nodes.map((n) => n.proc.exited));
}

/**
 * The load generator: wrk (1 thread, N connections, latency distribution), installed with apt-get when
 * missing; autocannon through npx when apt cannot be used. One `measure()` call is one timed run against
 * one server, returning requests/s, p50, p99 and the error count.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface LoadSpec {
  method: "GET" | "POST";
  /** Request paths, rotated; one path and no body/tokens makes a fixed request. */
  paths: string[];
  tokens?: string[];
  /** JSON body template; "{n}" becomes the request's sequence number. */
  body?: string;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx answers and socket errors. */
  errors: number;
}

export type Tool = "wrk" | "autocannon";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** wrk if present or installable, else autocannon (via npx). */
export function pickTool(log: (line: string) => void): Tool {
  if (has("wrk")) return "wrk";
  if (process.getuid?.() === 0 && has("apt-get")) {
    log("wrk not found: apt-get install -y wrk");
    spawnSync(
      "sh",
      [
        "-c",
        "apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1)",
      ],
      {
        stdio: "inherit",
      },
    );
    if (has("wrk")) return "wrk";
  }
  log("wrk unavailable: falling back to autocannon through npx (requests are fixed, not rotated)");
  return "autocannon";
}

const toMs = (value: string, unit: string) =>
  Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? 1);

export function parseWrk(out: string): LoadResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? toMs(m[1]!, m[2]!) : Number.NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: pct("50"),
    p99Ms: pct("99"),
    requests: num(/(\d+) requests in/),
    errors: (Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) || 0) + socketErrors,
  };
}

export interface RunOptions {
  tool: Tool;
  baseUrl: string;
  seconds: number;
  connections: number;
  /** Scratch directory for path/token files. */
  dir: string;
}

export async function measure(spec: LoadSpec, o: RunOptions): Promise<LoadResult> {
  if (o.tool === "autocannon") return autocannon(spec, o);
  const dynamic = spec.paths.length > 1 || spec.tokens?.length || spec.body;
  const args = ["-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency", "--timeout", "10s"];
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (dynamic) {
    const paths = join(o.dir, "paths.txt");
    const tokens = join(o.dir, "tokens.txt");
    await Bun.write(paths, `${spec.paths.join("\n")}\n`);
    await Bun.write(tokens, spec.tokens?.length ? `${spec.tokens.join("\n")}\n` : "");
    Object.assign(env, {
      BENCH_METHOD: spec.method,
      BENCH_PATHS: paths,
      BENCH_TOKENS: tokens,
      BENCH_BODY: spec.body ?? "",
    });
    args.push("-s", join(import.meta.dir, "..", "wrk", "rotate.lua"));
  }
  const proc = Bun.spawn(["wrk", ...args, `${o.baseUrl}${spec.paths[0]}`], {
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const result = parseWrk(out);
  if (Number.isNaN(result.rps)) throw new Error(`could not read wrk's output:\n${out}`);
  return result;
}

async function autocannon(spec: LoadSpec, o: RunOptions): Promise<LoadResult> {
  const args = [
    "--yes",
    "autocannon",
    "-j",
    "-c",
    String(o.connections),
    "-d",
    String(o.seconds),
    "-m",
    spec.method,
  ];
  if (spec.tokens?.length) args.push("-H", `Authorization=Token ${spec.tokens[0]}`);
  if (spec.body) args.push("-H", "Content-Type=application/json", "-b", spec.body.replaceAll("{n}", "1"));
  const proc = Bun.spawn(["npx", ...args, `${o.baseUrl}${spec.paths[0]}`], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const out = JSON.parse(await new Response(proc.stdout).text());
  await proc.exited;
  return {
    rps: out.requests.average,
    p50Ms: out.latency.p50,
    p99Ms: out.latency.p99,
    requests: out.requests.total,
    errors: (out.non2xx ?? 0) + (out.errors ?? 0),
  };
}

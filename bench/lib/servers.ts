/**
 * Starting and stopping the servers under test, each in its own process: Quire (BENCH_QUIRE=<binary>, else
 * the compiled dist/quire when it is newer than every source file, else `bun src/main.ts serve`), the SQL
 * baseline (bench/baseline.ts) and the same-bytes server (bench/raw.ts). Also exec-to-first-response and
 * resident memory.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const root = resolve(import.meta.dir, "..", "..");
const bun = process.execPath;

export interface Server {
  name: string;
  url: string;
  proc: Bun.Subprocess;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The command that runs Quire, and a label for the report. */
export function quireCommand(): { cmd: string[]; label: string } {
  const chosen = process.env.BENCH_QUIRE;
  if (chosen) return { cmd: [resolve(chosen), "serve"], label: `${chosen} (BENCH_QUIRE)` };
  const binary = join(root, "dist", "quire");
  try {
    if (
      statSync(binary).mtimeMs > Math.max(newestMtime(join(root, "src")), newestMtime(join(root, "drizzle")))
    )
      return { cmd: [binary, "serve"], label: "dist/quire (compiled)" };
  } catch {
    // no binary: run from source
  }
  return {
    cmd: [bun, join(root, "src", "main.ts"), "serve"],
    label: "bun src/main.ts serve (no fresh dist/quire)",
  };
}

export function quireEnv(db: string, port: number, secret: string, dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: db,
    DATA_DIR: dataDir,
    JWT_SECRET: secret,
    JWT_TTL_SECONDS: "86400",
    LOG_LEVEL: "warn",
    // One client on loopback sends far more than any per-IP limit allows; the limiter would answer 429s.
    RATE_LIMIT_ENABLED: "false",
    ...(process.env.CACHE_TTL_MS !== undefined && { CACHE_TTL_MS: process.env.CACHE_TTL_MS }),
  };
}

/** Poll `url` until it answers 200; resolves with the milliseconds since `started`. */
export async function waitReady(url: string, started: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) {
        await res.arrayBuffer();
        return performance.now() - started;
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - started > timeoutMs)
      throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await Bun.sleep(1);
  }
}

export async function startQuire(
  cmd: string[],
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<Server & { startMs: number }> {
  const started = performance.now();
  const [exe, ...args] = cmd;
  const proc = Bun.spawn([exe!, ...extraArgs, ...args], { env, stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${env.PORT}`;
  const startMs = await waitReady(`${url}/api/tags`, started);
  return { name: "quire", url, proc, startMs };
}

export async function startBaseline(db: string, port: number, secret: string): Promise<Server> {
  const proc = Bun.spawn(
    [bun, join(root, "bench", "baseline.ts"), "--db", db, "--port", String(port), "--secret", secret],
    { stdout: "ignore", stderr: "inherit" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/api/tags`, performance.now());
  return { name: "sql", url, proc };
}

export async function startSameBytes(answers: string, port: number): Promise<Server> {
  const proc = Bun.spawn([bun, join(root, "bench", "raw.ts"), "--answers", answers, "--port", String(port)], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  // Any answer will do: it is listening once it answers (404 for a path it was not given).
  for (const started = performance.now(); ; await Bun.sleep(5)) {
    if (
      await fetch(url).then(
        () => true,
        () => false,
      )
    )
      break;
    if (performance.now() - started > 30_000) throw new Error("the same-bytes server did not start");
  }
  return { name: "bytes", url, proc };
}

/** The raw Postgres baseline (bench/baseline-pg.ts) on the database at `url`. */
export async function startBaselinePostgres(url: string, port: number, secret: string): Promise<Server> {
  const proc = Bun.spawn(
    [bun, join(root, "bench", "baseline-pg.ts"), "--url", url, "--port", String(port), "--secret", secret],
    { stdout: "ignore", stderr: "inherit" },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/api/tags`, performance.now());
  return { name: "sql", url: base, proc };
}

export async function stop(server: Server): Promise<void> {
  server.proc.kill("SIGTERM");
  const timer = setTimeout(() => server.proc.kill("SIGKILL"), 15_000);
  await server.proc.exited;
  clearTimeout(timer);
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/**
 * Driving the compiled binary from tests: build it once (or take QUIRE_BINARY), start servers from an empty
 * working directory with a controlled environment, learn their URL from the one "listening on" line, and
 * send raw HTTP/1.1 over sockets where a test needs control over when the body arrives.
 *
 * The servers run on the run's engine (TEST_ENGINE): an SQLite file in their DATA_DIR, or, on Postgres, a fresh
 * database per data directory (`serverEnv` names it once `prepareDatabase` or `startServer` made it).
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { testDatabaseUrl, testEngine } from "./engine.ts";
import { postgresTestDb, sqliteTestDb, type TestDb } from "./test-db.ts";

const root = resolve(import.meta.dir, "../..");

export async function buildBinary(work: string): Promise<string> {
  const given = process.env.QUIRE_BINARY;
  if (given && existsSync(given)) return resolve(given);
  const binary = join(work, "quire");
  const build = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", binary], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(build.stdout).text(),
    new Response(build.stderr).text(),
    build.exited,
  ]);
  if (code !== 0) throw new Error(`build failed with exit code ${code}\n${out}\n${err}`);
  return binary;
}

export const workDir = () => mkdtempSync(join(tmpdir(), "quire-ops-e2e-"));

/** Postgres databases of the data directories servers were started on. */
const databases = new Map<string, string>();

/** Give `dataDir` its database (Postgres: a fresh one; SQLite: the file the server creates there). */
export async function prepareDatabase(dataDir: string): Promise<void> {
  if (testEngine === "postgres" && !databases.has(dataDir)) databases.set(dataDir, await testDatabaseUrl());
}

/** Raw SQL on the database of `dataDir` (beside a running server: SQLite waits for its write lock). */
export async function openDatabase(dataDir: string): Promise<TestDb> {
  await prepareDatabase(dataDir);
  const url = databases.get(dataDir);
  if (url) return postgresTestDb(url);
  const db = new Database(join(dataDir, "quire.db"));
  db.run("PRAGMA busy_timeout = 5000");
  const sql = sqliteTestDb(() => db);
  return { ...sql, close: async () => db.close() };
}

export function serverEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const url = databases.get(dataDir);
  return {
    NODE_ENV: "production",
    JWT_SECRET: "ops-e2e-secret-that-is-long-enough-0123456789",
    HOST: "127.0.0.1",
    PORT: "0",
    DATA_DIR: dataDir,
    PASSWORD_MEMORY_COST_KIB: "1024",
    PASSWORD_TIME_COST: "1",
    RATE_LIMIT_ENABLED: "false",
    // Postgres backups run pg_dump and pg_restore from PATH.
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...(url && { DATABASE_URL: url }),
    ...extra,
  };
}

export interface Server {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  origin: string;
  port: number;
  stdout: { text: string };
  stderr: { text: string };
  /** Resolves with the exit code once the process ended and its output was read. */
  exited: Promise<number>;
}

export function drain(stream: ReadableStream<Uint8Array>, sink: { text: string }) {
  return (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
}

/** Start `binary serve` on `dataDir`, from `cwd` (default: a fresh empty directory beside `dataDir`). */
export async function startServer(
  binary: string,
  dataDir: string,
  extra: Record<string, string> = {},
  cwd = join(dataDir, "..", `cwd-${Date.now()}-${Math.random().toString(36).slice(2)}`),
): Promise<Server> {
  mkdirSync(cwd, { recursive: true });
  await prepareDatabase(dataDir);
  const proc = Bun.spawn([binary, "serve"], {
    cwd,
    env: serverEnv(dataDir, extra),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = { text: "" };
  const stderr = { text: "" };
  const drained = Promise.all([drain(proc.stdout, stdout), drain(proc.stderr, stderr)]);
  const exited = proc.exited.then(async (code) => {
    await drained;
    return code;
  });
  let origin = "";
  const deadline = Date.now() + 15_000;
  while (origin === "" && Date.now() < deadline && proc.exitCode === null) {
    origin = /"msg":"listening on (http:\/\/[^"]+)"/.exec(stdout.text)?.[1] ?? "";
    if (origin === "") await Bun.sleep(20);
  }
  if (origin === "") {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await exited;
    throw new Error(`no listen line (exit ${proc.exitCode})\n${stdout.text}\n${stderr.text}`);
  }
  return { proc, origin, port: Number(new URL(origin).port), stdout, stderr, exited };
}

/** Run the binary as a one-shot command. */
export async function runCli(binary: string, args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([binary, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export async function api(origin: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Token ${token}`;
  const res = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely by tests
  return { status: res.status, body: json as any, text };
}

export async function register(origin: string, name: string): Promise<string> {
  const res = await api(origin, "POST", "/api/users", {
    user: { username: name, email: `${name}@example.com`, password: "correct horse battery" },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
  return res.body.user.token;
}

/**
 * One HTTP/1.1 request on its own TCP connection, written in two parts: `head` + the first `split` bytes of
 * the body now, the rest when `release` resolves. Resolves with the status code (0 if the connection failed
 * or closed without a status line).
 */
export function splitRequest(
  port: number,
  head: string,
  body: string,
  split: number,
  release: Promise<void>,
  sent: () => void,
): Promise<number> {
  return new Promise((resolvePromise) => {
    let response = "";
    let settled = false;
    const done = (status: number) => {
      if (!settled) {
        settled = true;
        resolvePromise(status);
      }
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, split)}`);
          sent();
          void release.then(() => socket.write(body.slice(split)));
        },
        data(socket, data) {
          response += data.toString();
          const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
          if (m && response.includes("\r\n\r\n")) {
            done(Number(m[1]));
            socket.end();
          }
        },
        close() {
          done(0);
        },
        error() {
          done(0);
        },
        connectError() {
          done(0);
        },
      },
    }).catch(() => done(0));
  });
}

/** True when nothing accepts connections on the port any more. */
export async function refused(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return false;
  } catch {
    return true;
  }
}

/**
 * `quire serve` as real processes (from source): one server per data directory (the serve lock), what the
 * start line says is bound, and a busy port as one line and exit 1. The CLI commands the README promises
 * beside a running server (backup, admin) keep working.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { claimServeLock, DatabaseInUse, lockable, lockPath } from "../../src/cli/lock.ts";
import { TEST_SECRET } from "../helpers/app.ts";
import { drain } from "../helpers/binary.ts";
import { onlyOn, testDatabaseUrl, testEngine } from "../helpers/engine.ts";
import { tempDir } from "./helpers.ts";

setDefaultTimeout(30_000);
const { dir: root, cleanup } = tempDir("quire-serve-proc-");
const procs: Bun.Subprocess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  cleanup();
});
const main = join(import.meta.dir, "../../src/main.ts");

const envFor = (dataDir: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "",
  NODE_ENV: "production",
  JWT_SECRET: TEST_SECRET,
  DATA_DIR: dataDir,
  HOST: "127.0.0.1",
  PORT: "0",
  PASSWORD_MEMORY_COST_KIB: "8",
  PASSWORD_TIME_COST: "1",
  ...extra,
});

/** On Postgres, each data directory's server gets a database of its own (SQLite: the file in it). */
const databases = new Map<string, string>();
async function databaseFor(dataDir: string): Promise<Record<string, string>> {
  if (testEngine === "sqlite") return {};
  if (!databases.has(dataDir)) databases.set(dataDir, await testDatabaseUrl());
  return { DATABASE_URL: databases.get(dataDir)! };
}

/** Start `quire serve`; resolves once it printed its start line, or exited. */
async function start(dataDir: string, extra: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, main, "serve"], {
    env: envFor(dataDir, { ...(await databaseFor(dataDir)), ...extra }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(proc);
  const stdout = { text: "" };
  const stderr = { text: "" };
  const drained = Promise.all([drain(proc.stdout, stdout), drain(proc.stderr, stderr)]);
  const exited = proc.exited.then(async (code) => {
    await drained;
    return code;
  });
  const deadline = Date.now() + 20_000;
  let line: Record<string, unknown> | undefined;
  while (!line && proc.exitCode === null && Date.now() < deadline) {
    const found = stdout.text.split("\n").find((l) => l.includes('"msg":"listening on '));
    if (found) line = JSON.parse(found);
    else await Bun.sleep(20);
  }
  if (!line) await exited;
  return { proc, stdout, stderr, exited, line };
}

async function cli(args: string[], dataDir: string) {
  const proc = Bun.spawn([process.execPath, main, ...args], {
    env: envFor(dataDir, { LOG_LEVEL: "warn", ...(await databaseFor(dataDir)) }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

// SQLite-only: the serve lock is for a database in one local file (none on Postgres: src/cli/lock.ts).
onlyOn("sqlite")("one server per data directory", () => {
  test("a second server refuses with one line naming the first; backup and admin still work beside it", async () => {
    const dataDir = join(root, "shared");
    const first = await start(dataDir);
    expect(first.line).toBeDefined();
    const url = String(first.line!.url);
    const db = join(dataDir, "quire.db");
    expect(JSON.parse(await Bun.file(lockPath(db)).text())).toMatchObject({
      pid: first.proc.pid,
      hostname: hostname(),
    });

    const second = await start(dataDir);
    expect(second.line).toBeUndefined();
    expect(await second.exited).toBe(1);
    expect(second.stderr.text).toBe(
      `quire: ${db} is already being served by pid ${first.proc.pid} on ${hostname()} (lock ${lockPath(db)}, touched ${/touched (\d+) s ago/.exec(second.stderr.text)?.[1]} s ago); stop it first, or give this one its own DATA_DIR\n`,
    );
    expect(second.stdout.text).not.toContain("migrations");

    // The first is untouched, and the commands documented as safe beside it still run.
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const backup = await cli(["backup", join(root, "beside.db")], dataDir);
    expect(backup).toMatchObject({ code: 0, stderr: "" });
    const admin = await cli(["admin", "list", "--role", "all"], dataDir);
    expect(admin).toMatchObject({ code: 0, stdout: "no accounts\n" });

    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(existsSync(lockPath(db))).toBe(false);
    const third = await start(dataDir);
    expect(third.line).toBeDefined();
    third.proc.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  });

  test("a server killed with -9 leaves a lock the next start takes over", async () => {
    const dataDir = join(root, "killed");
    const first = await start(dataDir);
    expect(first.line).toBeDefined();
    first.proc.kill("SIGKILL");
    await first.exited;
    expect(existsSync(lockPath(join(dataDir, "quire.db")))).toBe(true);
    const next = await start(dataDir);
    expect(next.line).toBeDefined();
    next.proc.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  });
});

describe("binding", () => {
  test("the start line names what is bound; a wildcard says so and gives a loopback URL", async () => {
    const wildcard = await start(join(root, "wild"), { HOST: "0.0.0.0" });
    const port = Number(wildcard.line?.port);
    expect(port).toBeGreaterThan(0);
    expect(wildcard.line).toMatchObject({
      address: "0.0.0.0",
      url: `http://127.0.0.1:${port}`,
      msg: `listening on http://0.0.0.0:${port}: every IPv4 interface (on this machine: http://127.0.0.1:${port})`,
    });
    wildcard.proc.kill("SIGTERM");
    expect(await wildcard.exited).toBe(0);

    const loopback = await start(join(root, "loop"));
    const p = Number(loopback.line?.port);
    expect(loopback.line).toMatchObject({
      address: "127.0.0.1",
      url: `http://127.0.0.1:${p}`,
      msg: `listening on http://127.0.0.1:${p}`,
    });
    loopback.proc.kill("SIGTERM");
    expect(await loopback.exited).toBe(0);
  });

  test("a busy port: one line, exit 1, no stack trace, no lock left behind", async () => {
    const holder = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const dataDir = join(root, "busy");
      const r = await start(dataDir, { PORT: String(holder.port) });
      expect(r.line).toBeUndefined();
      expect(await r.exited).toBe(1);
      expect(r.stderr.text).toBe(
        `quire: port ${holder.port} is already in use on 127.0.0.1 (set PORT or --port)\n`,
      );
      expect(r.stdout.text).not.toContain("stack");
      expect(existsSync(lockPath(join(dataDir, "quire.db")))).toBe(false);
    } finally {
      holder.stop(true);
    }
  });
});

describe("claimServeLock", () => {
  test("a fresh lock of a running process refuses; a dead process's lock is taken over", async () => {
    const db = join(root, "unit", "quire.db");
    mkdirSync(join(root, "unit"));
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(lockPath(db), JSON.stringify({ pid: sleeper.pid, hostname: hostname() }));
      expect(() => claimServeLock(db)).toThrow(DatabaseInUse);
      expect(JSON.parse(readFileSync(lockPath(db), "utf8")).pid).toBe(sleeper.pid);
    } finally {
      sleeper.kill();
    }
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(lockPath(db), JSON.stringify({ pid: dead, hostname: hostname() }));
    const release = claimServeLock(db);
    expect(JSON.parse(readFileSync(lockPath(db), "utf8")).pid).toBe(process.pid);
    release();
    expect(existsSync(lockPath(db))).toBe(false);
  });

  test("only a database in one local file has a lock", async () => {
    expect(lockable("/var/lib/quire/quire.db")).toBe(true);
    expect(lockable(":memory:")).toBe(false);
    expect(lockable("postgres://quire@db/quire")).toBe(false);
    const release = claimServeLock(":memory:");
    expect(existsSync(lockPath(":memory:"))).toBe(false);
    release();
  });
});

const hasNpm = Bun.spawnSync(["sh", "-c", "command -v npm"]).exitCode === 0;

// SQLite-only as written: it finds the server's pid in the serve lock.
onlyOn("sqlite")("npm start", () => {
  // npm runs the script through `sh -c`, which does not pass SIGTERM on: the script must exec the server.
  test.skipIf(!hasNpm)("SIGTERM to npm stops the server: nothing listens afterwards", async () => {
    const proc = Bun.spawn(["npm", "start", "--silent"], {
      cwd: join(import.meta.dir, "../.."),
      env: {
        ...envFor(join(root, "npm")),
        PATH: `${join(import.meta.dir, "../../node_modules/.bin")}:${process.env.PATH}`,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    procs.push(proc);
    const stdout = { text: "" };
    void drain(proc.stdout, stdout);
    let port = 0;
    for (let i = 0; i < 1000 && port === 0 && proc.exitCode === null; i++) {
      port = Number(/"port":(\d+)/.exec(stdout.text)?.[1] ?? 0);
      if (port === 0) await Bun.sleep(20);
    }
    expect(port).toBeGreaterThan(0);
    // The server's own pid (npm's grandchild without the fix), from its lock: to clean up if it outlives npm.
    const lock = lockPath(join(root, "npm", "quire.db"));
    const serverPid = JSON.parse(readFileSync(lock, "utf8")).pid as number;
    try {
      proc.kill("SIGTERM");
      await proc.exited;
      // The server itself has drained and exited, not merely its npm parent.
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        refused = await fetch(`http://127.0.0.1:${port}/health/live`).then(
          () => false,
          () => true,
        );
        if (!refused) await Bun.sleep(50);
      }
      expect(refused).toBe(true);
      expect(stdout.text).toContain('"msg":"stopped"');
    } finally {
      // A server that stopped removed its lock; one that still holds it is the orphan.
      if (existsSync(lock)) process.kill(serverPid, "SIGKILL");
    }
  });
});

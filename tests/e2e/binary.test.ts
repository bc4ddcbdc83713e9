/**
 * The compiled binary over real sockets: built once (or taken from QUIRE_BINARY), started from an empty
 * directory with nothing beside it, then driven by its CLI, plain fetch, the official RealWorld Bruno suite
 * ($REALWORLD_DIR/bruno, run folder by folder as its run-api-tests-bruno.sh does) and the legacy Postman
 * collection ($REALWORLD_DIR/legacy-postman, run by newman). Both are skipped with one line when the suites
 * are not there (see the README's Quick start). On the run's engine: an SQLite file in DATA_DIR, or a fresh
 * Postgres database (TEST_ENGINE=postgres).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SQL } from "bun";
import pkg from "../../package.json" with { type: "json" };
import { buildBinary, drain, serverEnv } from "../helpers/binary.ts";
import { testDatabaseUrl, testEngine } from "../helpers/engine.ts";
import { realworldDir, realworldPath } from "../helpers/realworld.ts";

const root = resolve(import.meta.dir, "../..");
const brunoDir = join(realworldDir, "bruno");
const haveBruno = existsSync(brunoDir);
if (!haveBruno)
  console.log(`skip: RealWorld Bruno suite not found at ${brunoDir} (set REALWORLD_DIR, see README)`);
const bru = join(root, "node_modules", ".bin", "bru");
/** Requests in the suite (one per .bru file outside environments/). */
const SUITE_REQUESTS = 154;

const work = mkdtempSync(join(tmpdir(), "quire-e2e-"));
let binary = "";

/** A fresh, empty working directory and data directory for each run of the binary. */
function freshDirs() {
  const dir = mkdtempSync(join(work, "run-"));
  const cwd = join(dir, "cwd");
  mkdirSync(cwd);
  return { cwd, dataDir: join(dir, "data") };
}

/**
 * The whole environment the binary sees (nothing is inherited from the test runner), with production's
 * rate limits on: the RealWorld suite must pass against the defaults.
 */
const env = (dataDir: string, extra: Record<string, string> = {}) =>
  serverEnv(dataDir, { RATE_LIMIT_ENABLED: "", ...extra });

async function run(args: string[], extra: Record<string, string> = {}, dirs = freshDirs()) {
  const proc = Bun.spawn([binary, ...args], {
    cwd: dirs.cwd,
    env: env(dirs.dataDir, extra),
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

beforeAll(async () => {
  binary = await buildBinary(work);
}, 180_000);

// QUIRE_E2E_KEEP=1 keeps the binary, data and Bruno reports for a post-mortem.
afterAll(() => process.env.QUIRE_E2E_KEEP || rmSync(work, { recursive: true, force: true }));

describe("CLI", () => {
  test("--help lists the commands and the environment, exit 0", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const word of ["serve", "migrate", "version", "PORT", "DATABASE_URL", "JWT_SECRET"]) {
      expect(stdout).toContain(word);
    }
  });

  test("--version prints the package version, exit 0", async () => {
    const { code, stdout } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toStartWith(`quire ${pkg.version}`);
  });

  test("a bad environment value stops it before listening, naming the variable", async () => {
    const { code, stdout, stderr } = await run([], { PORT: "abc" });
    expect(code).toBe(2);
    expect(stderr).toContain("PORT");
    expect(stdout).not.toContain("listening");
  });

  test("an unknown flag is a usage error: one line with the closest flag, one pointing at --help", async () => {
    const { code, stderr } = await run(["serve", "--prot", "3000"]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'quire: unknown flag --prot for serve (did you mean --port?)\nRun "quire serve --help" for usage.\n',
    );
  });

  test("migrate creates the database and exits 0", async () => {
    const dirs = freshDirs();
    if (testEngine === "sqlite") {
      const { code, stdout, stderr } = await run(["migrate"], {}, dirs);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("migrations applied");
      expect(existsSync(join(dirs.dataDir, "quire.db"))).toBe(true);
      return;
    }
    const url = await testDatabaseUrl({ migrated: false });
    const { code, stdout, stderr } = await run(["migrate"], { DATABASE_URL: url }, dirs);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("migrations applied");
    // The log names the database without its password.
    const password = new URL(url).password;
    if (password) expect(stdout).not.toContain(password);
    const sql = new SQL({ url, max: 1 });
    try {
      const [row] = await sql`select to_regclass('public.articles') is not null as present`;
      expect(row?.present).toBe(true);
    } finally {
      await sql.close();
    }
    expect(existsSync(join(dirs.dataDir, "quire.db"))).toBe(false);
  });
});

describe("server", () => {
  const { cwd, dataDir } = freshDirs();
  const stdout = { text: "" };
  const stderr = { text: "" };
  let server: Bun.Subprocess<"ignore", "pipe", "pipe">;
  let origin = "";

  beforeAll(async () => {
    const database: Record<string, string> =
      testEngine === "postgres" ? { DATABASE_URL: await testDatabaseUrl() } : {};
    server = Bun.spawn([binary], {
      cwd,
      env: env(dataDir, database),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const drained = Promise.all([drain(server.stdout, stdout), drain(server.stderr, stderr)]);
    // PORT=0: the only way to learn the port is the one line the server prints when it listens.
    const deadline = Date.now() + 15_000;
    while (origin === "" && Date.now() < deadline && server.exitCode === null) {
      origin = /"msg":"listening on (http:\/\/[^"]+)"/.exec(stdout.text)?.[1] ?? "";
      if (origin === "") await Bun.sleep(20);
    }
    if (origin === "") {
      if (server.exitCode !== null) await drained; // the exit can be seen before the last output is read
      throw new Error(`no listen line (exit ${server.exitCode})\n${stdout.text}\n${stderr.text}`);
    }
  }, 20_000);

  afterAll(async () => {
    if (server.exitCode === null) server.kill("SIGKILL");
  });

  test("prints exactly one listen line, with a loopback URL", async () => {
    expect(stdout.text.match(/listening on /g)).toHaveLength(1);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("answers GET /api/tags and keeps its data in DATA_DIR (or Postgres) only", async () => {
    const res = await fetch(`${origin}/api/tags`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tags: [] });
    expect(existsSync(join(dataDir, "quire.db"))).toBe(testEngine === "sqlite");
    expect(readdirSync(cwd)).toEqual([]); // nothing written beside it
  });

  test.skipIf(!haveBruno)(
    "passes the RealWorld Bruno suite",
    async () => {
      const folders = readdirSync(brunoDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name !== "environments")
        .map((e) => e.name)
        .sort();
      expect(folders.length).toBeGreaterThan(0);
      let passed = 0;
      let failed = 0;
      const failures: string[] = [];
      for (const folder of folders) {
        const report = join(work, `bruno-${folder}.json`);
        const args = ["run", folder, "--env", "local", "--env-var", `host=${origin}`, "--sandbox", "safe"];
        const proc = Bun.spawn([bru, ...args, "--noproxy", "--reporter-json", report], {
          cwd: brunoDir,
          stdout: "pipe",
          stderr: "pipe",
        });
        // bru exits non-zero when a request fails; the JSON report is what we count.
        const [out, err] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
        ]);
        await proc.exited;
        if (!existsSync(report)) throw new Error(`bru wrote no report for ${folder}\n${out}\n${err}`);
        for (const iteration of JSON.parse(readFileSync(report, "utf8")) as BrunoIteration[]) {
          passed += iteration.summary.passedRequests;
          failed += iteration.summary.failedRequests + iteration.summary.errorRequests;
          for (const r of iteration.results) if (r.status !== "pass") failures.push(describeFailure(r));
        }
      }
      if (failures.length > 0) console.error(`Bruno failures (${failures.length}):\n${failures.join("\n")}`);
      expect({ passed, failed }).toEqual({ passed: SUITE_REQUESTS, failed: 0 });
    },
    600_000,
  );

  // The legacy Postman collection (what most existing RealWorld front ends were built against), run by newman
  // as the suite's run-api-tests.sh does, without its delay between requests.
  const postman = realworldPath("legacy-postman/Conduit.postman_collection.json", "the legacy Postman suite");
  test.skipIf(!postman)(
    "passes the legacy RealWorld Postman suite: 311 assertions",
    async () => {
      const report = join(work, "newman.json");
      const user = `legacy${Date.now()}`;
      const vars = {
        APIURL: `${origin}/api`,
        USERNAME: user,
        EMAIL: `${user}@mail.com`,
        PASSWORD: "password",
      };
      const proc = Bun.spawn(
        [
          join(root, "node_modules", ".bin", "newman"),
          "run",
          postman!,
          ...Object.entries(vars).flatMap(([k, v]) => ["--global-var", `${k}=${v}`]),
          ...["--reporters", "cli,json", "--reporter-json-export", report, "--color", "off"],
        ],
        { cwd: work, stdout: "pipe", stderr: "pipe" },
      );
      const [out, err] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
      ]);
      await proc.exited;
      if (!existsSync(report)) throw new Error(`newman wrote no report\n${out}\n${err}`);
      const { run } = JSON.parse(readFileSync(report, "utf8")) as NewmanReport;
      if (run.failures.length > 0) console.error(out);
      expect({
        requests: run.stats.requests.total,
        assertions: run.stats.assertions.total,
        failed: run.stats.assertions.failed,
      }).toEqual({ requests: 32, assertions: 311, failed: 0 });
    },
    120_000,
  );

  test("SIGTERM drains and exits 0", async () => {
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(stdout.text).toContain('"msg":"stopped"');
  }, 20_000);
});

/** The parts of newman 6's JSON report read here. */
interface NewmanReport {
  run: {
    stats: { requests: { total: number }; assertions: { total: number; failed: number } };
    failures: unknown[];
  };
}

/** The parts of @usebruno/cli 4.1's --reporter-json output read here. */
interface BrunoIteration {
  summary: { passedRequests: number; failedRequests: number; errorRequests: number };
  results: BrunoResult[];
}
interface BrunoResult {
  path: string;
  status: string;
  error?: string | null;
  response?: { status?: number };
  assertionResults?: { lhsExpr: string; rhsExpr: string; status: string; error?: string }[];
  testResults?: { description: string; status: string; error?: string }[];
  postResponseTestResults?: { description: string; status: string; error?: string }[];
}

function describeFailure(r: BrunoResult): string {
  const lines = [`✕ ${r.path} (HTTP ${r.response?.status ?? "-"})${r.error ? `: ${r.error}` : ""}`];
  for (const a of r.assertionResults ?? []) {
    if (a.status !== "pass") lines.push(`    assert ${a.lhsExpr} ${a.rhsExpr}: ${a.error ?? "failed"}`);
  }
  for (const t of [...(r.testResults ?? []), ...(r.postResponseTestResults ?? [])]) {
    if (t.status !== "pass") lines.push(`    test ${t.description}: ${t.error ?? "failed"}`);
  }
  return lines.join("\n");
}

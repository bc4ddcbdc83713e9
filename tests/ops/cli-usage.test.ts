/**
 * How the CLI answers mistakes (one line naming the problem and the closest known word, one line pointing at
 * --help, exit 2) and its help texts, in-process; and which commands need JWT_SECRET, as real processes
 * with the environment an operator has.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/main.ts";
import { tempDir } from "./helpers.ts";

const { dir: root, cleanup } = tempDir("quire-cli-usage-");
afterAll(cleanup);

/** Run main() in-process and capture what it writes. */
async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const { write: writeOut } = process.stdout;
  const { write: writeErr } = process.stderr;
  process.stdout.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

describe("usage errors: one line, the closest match, a pointer to --help, exit 2", () => {
  test.each([
    [
      ["serve", "--prot", "3000"],
      "unknown flag --prot for serve (did you mean --port?)",
      "quire serve --help",
    ],
    [["--prot", "3000"], "unknown flag --prot (did you mean --port?)", "quire --help"],
    [["--data-dri", "x"], "unknown flag --data-dri (did you mean --data-dir?)", "quire --help"],
    [["--verison"], "unknown flag --verison (did you mean --version?)", "quire --help"],
    [["backup", "--port", "1"], "unknown flag --port for backup", "quire backup --help"],
    [["sevre"], 'unknown command "sevre" (did you mean serve?)', "quire --help"],
    [["backups", "x.db"], 'unknown command "backups" (did you mean backup?)', "quire --help"],
    [["frobnicate"], 'unknown command "frobnicate"', "quire --help"],
    [["serve", "--port"], "--port needs a value", "quire serve --help"],
    [["restore", "--force=yes", "x.db"], "--force takes no value", "quire restore --help"],
    [["migrate", "extra"], 'unexpected argument "extra": migrate takes none', "quire migrate --help"],
    [["backup", "a.db", "b.db"], "backup takes one <file>, got 2", "quire backup --help"],
    [["admin"], "admin needs a command: create, promote, demote, list, reset-password", "quire admin --help"],
    [["admin", "craete"], 'unknown admin command "craete" (did you mean create?)', "quire admin --help"],
    [
      ["admin", "list", "--rol", "x"],
      "unknown flag --rol for admin list (did you mean --role?)",
      "quire admin list --help",
    ],
    [["admin", "promote"], "--username is required", "quire admin promote --help"],
  ])("quire %p", async (argv, message, help) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toStartWith(`quire: ${message}`);
    expect(lines[1]).toBe(`Run "${help}" for usage.`);
  });

  test("an unknown flag never prints the help text", async () => {
    const { stderr } = await run("serve", "--no-such-flag");
    expect(stderr).toContain("--no-such-flag");
    expect(stderr).not.toContain("Environment");
    expect(stderr.split("\n").length).toBeLessThanOrEqual(3);
  });
});

describe("admin help", () => {
  test("quire admin --help lists the subcommands, not flags named after them", async () => {
    const { code, stdout } = await run("admin", "--help");
    expect(code).toBe(0);
    expect(stdout).toStartWith("Usage: quire admin <create|promote|demote|list|reset-password> [flags]");
    for (const sub of ["create", "promote", "demote", "list", "reset-password"])
      expect(stdout).toMatch(new RegExp(`^  ${sub} +\\S`, "m"));
    expect(stdout).not.toContain("[flags]\n\n  manage admin accounts (create, promote)");
    expect(stdout).not.toContain("  create --email");
  });

  test.each([
    ["create", ["--email <e>", "--generate-password", "--password -"]],
    ["promote", ["--username <u>"]],
    ["demote", ["--username <u>", "--role <r>"]],
    ["list", ["--role <r>", "--json"]],
    ["reset-password", ["--username <u>", "--password -", "--generate-password"]],
  ])("quire admin %s --help shows its own flags", async (sub, flags) => {
    const { code, stdout } = await run("admin", sub, "--help");
    expect(code).toBe(0);
    expect(stdout).toStartWith(`Usage: quire admin ${sub} [flags]`);
    for (const f of flags) expect(stdout).toContain(f);
    expect(stdout).toContain("--data-dir <path>");
  });
});

/** Run the CLI from source as its own process, with exactly `env` (no JWT_SECRET unless given). */
async function spawn(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    cwd: root,
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

describe("only serve needs JWT_SECRET", () => {
  let n = 0;
  test.each(["production", "development"])(
    "NODE_ENV=%s: migrate, backup, admin list and restore run without one and write no secret",
    async (NODE_ENV) => {
      const dataDir = join(root, `secretless-${++n}`);
      const env = { NODE_ENV, DATA_DIR: dataDir };
      const backup = join(root, `secretless-${n}.db`);
      expect(await spawn(["migrate"], env)).toMatchObject({ code: 0, stderr: "" });
      expect(await spawn(["backup", backup], env)).toMatchObject({ code: 0, stderr: "" });
      const list = await spawn(["admin", "list"], env);
      expect(list).toMatchObject({ code: 0, stderr: "", stdout: "no accounts with role admin\n" });
      expect(await spawn(["restore", backup], env)).toMatchObject({ code: 0, stderr: "" });
      expect(readdirSync(dataDir)).not.toContain("jwt-secret");
      expect(existsSync(join(dataDir, "quire.db"))).toBe(true);
    },
    30_000,
  );

  test("serve still refuses to start in production without one (exit 2, nothing created)", async () => {
    const dataDir = join(root, "serve-secretless");
    const r = await spawn(["serve", "--port", "0"], { NODE_ENV: "production", DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("JWT_SECRET: required when NODE_ENV=production");
    expect(existsSync(dataDir)).toBe(false);
  });
});

/**
 * `quire admin create|promote|demote|list|reset-password` as a separate process against the SQLite file a
 * running app has open (WAL + busy_timeout), then checked through that app's HTTP API. The app runs on a
 * fake clock, so the documented bound on when it notices (its session cache, ≤ 10 s) is shown, not waited.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { type AppContext, closeContext, createContext } from "../../src/context.ts";
import { FakeClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { TEST_SECRET, testDbOf } from "../helpers/app.ts";
import { testDatabaseUrl } from "../helpers/engine.ts";
import type { TestDb } from "../helpers/test-db.ts";

// Each test spawns a few CLI processes (≈0.5 s each on a busy 2-core machine).
setDefaultTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), "quire-admin-cli-"));
const env = {
  ...process.env,
  NODE_ENV: "test",
  JWT_SECRET: TEST_SECRET,
  DATABASE_URL: await testDatabaseUrl({ dir }),
  DATA_DIR: dir,
  PASSWORD_MEMORY_COST_KIB: "8",
  PASSWORD_TIME_COST: "1",
  LOG_LEVEL: "silent",
};
let ctx: AppContext;
let db: TestDb;
let app: ReturnType<typeof createApp>;
const clock = new FakeClock(Date.now());
/** The running app's session checks are cached at most this long (src/modules/cache): the CLI's bound. */
const SESSION_CACHE_MS = 10_000;

beforeAll(async () => {
  ctx = await createContext(loadConfig(env), createLogger("silent"), { clock });
  db = testDbOf(ctx);
  app = createApp(ctx);
});
afterAll(async () => {
  await db.close();
  await closeContext(ctx);
  rmSync(dir, { recursive: true, force: true });
});

async function quire(args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, "src/main.ts", "admin", ...args], {
    env,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}

async function call(method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Token ${token}`;
  const res = await app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely by tests
  const json: any = await res.json().catch(() => null);
  return { status: res.status, body: json };
}
const login = (email: string, password: string) =>
  call("POST", "/api/users/login", { user: { email, password } });

describe("quire admin", () => {
  test("create: a new admin account, usable at once by the running app, audited", async () => {
    const r = await quire([
      "create",
      "--email",
      "ops@example.com",
      "--username",
      "ops",
      "--password",
      "a-long-password",
    ]);
    expect(r).toMatchObject({ code: 0, out: "created admin ops <ops@example.com>\n" });
    const session = await login("ops@example.com", "a-long-password");
    expect(session.status).toBe(200);
    const users = await call("GET", "/api/admin/users?role=admin", undefined, session.body.user.token);
    expect(users.status).toBe(200);
    expect(users.body.users.map((u: { username: string }) => u.username)).toEqual(["ops"]);
    const audit = await call(
      "GET",
      "/api/admin/audit?action=user.admin_created",
      undefined,
      session.body.user.token,
    );
    expect(audit.body.entries[0]).toMatchObject({ actor: null, detail: { via: "cli", username: "ops" } });
  });

  test("create never touches an existing account: exit 1, nothing changed", async () => {
    const r = await quire([
      "create",
      "--email",
      "OPS@example.com",
      "--username",
      "other",
      "--password",
      "another-password",
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("email has already been taken");
    expect((await login("ops@example.com", "another-password")).status).toBe(401);
  });

  test("--password - reads standard input", async () => {
    const r = await quire(
      ["create", "--email", "in@example.com", "--username", "stdin_admin", "--password", "-"],
      "from-stdin-pass\n",
    );
    expect(r.code).toBe(0);
    expect((await login("in@example.com", "from-stdin-pass")).status).toBe(200);
  });

  test("promote: an account registered through the API becomes admin", async () => {
    const reg = await call("POST", "/api/users", {
      user: { username: "later", email: "later@example.com", password: "password-123" },
    });
    expect(reg.status).toBe(201);
    const r = await quire(["promote", "--username", "later"]);
    expect(r).toMatchObject({ code: 0, out: "later is now an admin\n" });
    const fresh = await login("later@example.com", "password-123");
    expect((await call("GET", "/api/admin/users", undefined, fresh.body.user.token)).status).toBe(200);
  });

  test("usage errors exit 2 and create nothing", async () => {
    for (const args of [
      ["create", "--email", "x@example.com", "--username", "x"],
      ["create", "--email", "not-an-email", "--username", "x2", "--password", "password-123"],
      ["create", "--email", "y@example.com", "--username", "y", "--password", "short"],
      ["destroy", "--username", "ops"],
    ]) {
      expect((await quire(args)).code).toBe(2);
    }
    expect(await db.get("select count(*) as n from users where username in ('x', 'x2', 'y')")).toEqual({
      n: 0,
    });
    expect((await quire(["promote", "--username", "ghost"])).code).toBe(1);
  });
});

const role = async (username: string) =>
  (await db.get<{ role: string }>("select role from users where username = ?", username))?.role;

/** The same command on a terminal (util-linux `script` gives it a pty), answering each prompt in turn. */
async function quireOnTty(args: string[], answers: string[]) {
  const command = [process.execPath, "src/main.ts", "admin", ...args].map((a) => `'${a}'`).join(" ");
  const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], {
    env,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  for (const [i, answer] of answers.entries()) {
    // Answer only once asked: typed-ahead input would be echoed before the prompt turns echo off.
    const prompt = i === 0 ? "New password: " : "Repeat it: ";
    while (!out.includes(prompt)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += decoder.decode(value);
    }
    proc.stdin.write(`${answer}\r`);
    await proc.stdin.flush();
  }
  proc.stdin.end();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value);
  }
  return { code: await proc.exited, out };
}
const hasScript = Bun.spawnSync(["sh", "-c", "command -v script"]).exitCode === 0;

describe("quire admin list", () => {
  test("a table of the admins, no secrets; --role all and --json", async () => {
    const r = await quire(["list"]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^USERNAME +EMAIL +ROLE +SUSPENDED +CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 4))).toEqual([
      ["ops", "ops@example.com", "admin", "no"],
      ["stdin_admin", "in@example.com", "admin", "no"],
      ["later", "later@example.com", "admin", "no"],
    ]);
    expect(r.out).not.toContain("$argon2");

    const all = await quire(["list", "--role", "all", "--json"]);
    expect(all.code).toBe(0);
    const rows = JSON.parse(all.out) as Record<string, unknown>[];
    expect(rows.map((u) => u.username)).toEqual(["ops", "stdin_admin", "later"]);
    expect(Object.keys(rows[0]!).sort()).toEqual([
      "createdAt",
      "email",
      "emailVerified",
      "role",
      "suspended",
      "username",
    ]);

    expect(await quire(["list", "--role", "viewer"])).toMatchObject({
      code: 0,
      out: "no accounts with role viewer\n",
    });
    expect((await quire(["list", "--role", "root"])).code).toBe(2);
  });
});

describe("quire admin demote", () => {
  test("an admin becomes an editor; the running app applies it within its session cache bound", async () => {
    const session = await login("later@example.com", "password-123");
    const token = session.body.user.token;
    expect((await call("GET", "/api/admin/users", undefined, token)).status).toBe(200); // cached now
    const r = await quire(["demote", "--username", "LATER"]);
    expect(r).toMatchObject({ code: 0, out: "later is now an editor\n" });
    expect(await role("later")).toBe("editor");
    // Within the bound the app may still use its cached check; past it, never.
    clock.advance(SESSION_CACHE_MS + 1);
    expect((await call("GET", "/api/admin/users", undefined, token)).status).toBe(403);
    const audit = await call(
      "GET",
      "/api/admin/audit?action=user.role_changed",
      undefined,
      (await login("ops@example.com", "a-long-password")).body.user.token,
    );
    expect(audit.body.entries[0]).toMatchObject({ actor: null, detail: { from: "admin", to: "editor" } });
  });

  test("--role viewer; a non-admin is refused (exit 1); a bad role is a usage error", async () => {
    expect((await quire(["promote", "--username", "later"])).code).toBe(0);
    expect(await quire(["demote", "--username", "later", "--role", "viewer"])).toMatchObject({
      code: 0,
      out: "later is now a viewer\n",
    });
    const again = await quire(["demote", "--username", "later"]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("later is not an admin");
    expect(await role("later")).toBe("viewer");
    expect((await quire(["demote", "--username", "ops", "--role", "admin"])).code).toBe(2);
    expect(await role("ops")).toBe("admin");
  });

  test("the last active admin cannot be demoted", async () => {
    expect((await quire(["demote", "--username", "stdin_admin"])).code).toBe(0);
    const last = await quire(["demote", "--username", "ops"]);
    expect(last.code).toBe(1);
    expect(last.err).toContain("would leave no active admin");
    expect(await role("ops")).toBe("admin");
    expect((await quire(["promote", "--username", "stdin_admin"])).code).toBe(0);
  });
});

describe("quire admin reset-password", () => {
  test("from stdin: new password works, old fails, every session ends (within the bound), audited", async () => {
    const before = await login("ops@example.com", "a-long-password");
    expect(before.status).toBe(200);
    const token = before.body.user.token;
    expect((await call("GET", "/api/user", undefined, token)).status).toBe(200);
    const r = await quire(["reset-password", "--username", "OPS", "--password", "-"], "brand-new-password\n");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^password of ops reset; [1-9]\d* session\(s\) ended\n$/);
    expect(r.out + r.err).not.toContain("brand-new-password");
    expect((await login("ops@example.com", "a-long-password")).status).toBe(401);
    const after = await login("ops@example.com", "brand-new-password");
    expect(after.status).toBe(200);
    clock.advance(SESSION_CACHE_MS + 1);
    expect((await call("GET", "/api/user", undefined, token)).status).toBe(401);
    const audit = await call(
      "GET",
      "/api/admin/audit?action=user.password_reset",
      undefined,
      after.body.user.token,
    );
    expect(audit.status).toBe(200);
    expect(audit.body.entries[0]).toMatchObject({ actor: null, detail: { via: "cli" } });
    expect(audit.body.entries[0].detail.sessionsEnded).toBeGreaterThanOrEqual(1);
  });

  test("--generate-password prints one once, and it is the password", async () => {
    const r = await quire(["reset-password", "--username", "stdin_admin", "--generate-password"]);
    expect(r.code).toBe(0);
    const generated = /^password for stdin_admin \(shown once\): (\S{24})$/m.exec(r.out)?.[1];
    expect(generated).toBeDefined();
    expect((await login("in@example.com", generated!)).status).toBe(200);
    expect((await login("in@example.com", "from-stdin-pass")).status).toBe(401);
  });

  test("refusals change nothing: short password (2), both sources (2), no source off a terminal (2), unknown user (1)", async () => {
    const hash = () => db.get("select password_hash from users where username = 'ops'");
    const kept = await hash();
    expect((await quire(["reset-password", "--username", "ops", "--password", "-"], "short\n")).code).toBe(2);
    expect(
      (
        await quire([
          "reset-password",
          "--username",
          "ops",
          "--password",
          "x".repeat(10),
          "--generate-password",
        ])
      ).code,
    ).toBe(2);
    const none = await quire(["reset-password", "--username", "ops"]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("--password -");
    const ghost = await quire(
      ["reset-password", "--username", "ghost", "--password", "-"],
      "long-enough-pass\n",
    );
    expect(ghost.code).toBe(1);
    expect(ghost.err).toContain("user");
    expect(await hash()).toEqual(kept);
  });

  test.skipIf(!hasScript)(
    "on a terminal: asks twice without echo; differing answers change nothing",
    async () => {
      const differ = await quireOnTty(
        ["reset-password", "--username", "ops"],
        ["typed-once-pass", "typed-twice-pass"],
      );
      expect(differ.code).toBe(2);
      expect(differ.out).toContain("the two passwords differ");
      expect((await login("ops@example.com", "brand-new-password")).status).toBe(200);

      const same = await quireOnTty(
        ["reset-password", "--username", "ops"],
        ["prompted-password", "prompted-password"],
      );
      expect(same.code).toBe(0);
      expect(same.out).not.toContain("prompted-password"); // never echoed
      expect((await login("ops@example.com", "prompted-password")).status).toBe(200);
    },
  );
});

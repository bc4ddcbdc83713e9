/**
 * `quire admin create|promote` as a separate process against the SQLite file a running app has open
 * (WAL + busy_timeout), then checked through that app's HTTP API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { type AppContext, closeContext, createContext } from "../../src/context.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { TEST_SECRET } from "../helpers/app.ts";

const dir = mkdtempSync(join(tmpdir(), "quire-admin-cli-"));
const env = {
  ...process.env,
  NODE_ENV: "test",
  JWT_SECRET: TEST_SECRET,
  DATABASE_URL: join(dir, "quire.db"),
  DATA_DIR: dir,
  PASSWORD_MEMORY_COST_KIB: "8",
  PASSWORD_TIME_COST: "1",
  LOG_LEVEL: "silent",
};
let ctx: AppContext;
let app: ReturnType<typeof createApp>;

beforeAll(() => {
  ctx = createContext(loadConfig(env), createLogger("silent"));
  app = createApp(ctx);
});
afterAll(() => {
  closeContext(ctx);
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
    expect(
      ctx.sqlite.query("select count(*) as n from users where username in ('x', 'x2', 'y')").get(),
    ).toEqual({ n: 0 });
    expect((await quire(["promote", "--username", "ghost"])).code).toBe(1);
  });
});

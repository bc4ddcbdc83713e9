/**
 * The account lifecycle against the compiled binary, its mail going over real SMTP to a test server: verify
 * the address from the welcome email, reset the password (sessions and sockets end), export, delete. The
 * server's own job workers send the mail; the test reads the tokens out of what arrives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { api, buildBinary, type Server, startServer, workDir } from "../helpers/binary.ts";
import { startSmtp, type TestSmtp, tokenIn } from "../helpers/smtp.ts";

const work = workDir();
const dataDir = join(work, "data");
let binary = "";
let server: Server;
let smtp: TestSmtp;

const name = "lifecycle";
const email = `${name}@example.com`;
const password = "correct horse battery";
const newPassword = "a brand new passphrase";
const seen: string[] = [];

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true });
  smtp = await startSmtp();
  binary = await buildBinary(work);
  server = await startServer(binary, dataDir, {
    SMTP_URL: smtp.url,
    APP_URL: "https://app.example.com",
    JOBS_POLL_INTERVAL_MS: "200",
  });
}, 120_000);
afterAll(async () => {
  if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
  await smtp.close();
});

const signIn = (pw: string) =>
  api(server.origin, "POST", "/api/users/login", { user: { email, password: pw } });

describe("the account lifecycle on the binary", () => {
  let token = "";

  test("registration emails a link; following it verifies the address", async () => {
    const res = await api(server.origin, "POST", "/api/users", { user: { username: name, email, password } });
    expect(res.status).toBe(201);
    expect(res.body.user.emailVerified).toBe(false);
    token = res.body.user.token;
    const welcome = await smtp.waitFor((m) => m.to.includes(email) && m.subject === "Welcome to Quire");
    expect(welcome.text).toContain("https://app.example.com/verify-email?token=ev_");
    seen.push(tokenIn(welcome));
    const verified = await api(server.origin, "POST", "/api/users/verify-email", { token: tokenIn(welcome) });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ user: { username: name, email, emailVerified: true } });
    expect((await api(server.origin, "GET", "/api/user", undefined, token)).body.user.emailVerified).toBe(
      true,
    );
  });

  test("a reset: same answer for an unknown address; the link ends every session and socket", async () => {
    const socket = new WebSocket(`${server.origin.replace("http", "ws")}/api/realtime?token=${token}`);
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (e) => resolve(e.code)));
    await new Promise((resolve) => socket.addEventListener("open", resolve));

    const known = await api(server.origin, "POST", "/api/users/password-reset", { user: { email } });
    const unknown = await api(server.origin, "POST", "/api/users/password-reset", {
      user: { email: "nobody@example.com" },
    });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.text).toBe(known.text);

    const mail = await smtp.waitFor((m) => m.to.includes(email) && m.subject === "Reset your Quire password");
    const reset = tokenIn(mail);
    seen.push(reset);
    expect(mail.text).toContain(`https://app.example.com/reset-password?token=${reset}`);
    const done = await api(server.origin, "POST", "/api/users/password-reset/confirm", {
      token: reset,
      password: newPassword,
    });
    expect(done.status).toBe(200);
    expect(await closed).toBe(4001);
    expect((await api(server.origin, "GET", "/api/user", undefined, token)).status).toBe(401);
    expect((await signIn(password)).status).toBe(401);
    expect((await signIn(newPassword)).status).toBe(200);
    const replay = await api(server.origin, "POST", "/api/users/password-reset/confirm", {
      token: reset,
      password: "again and again",
    });
    expect(replay.status).toBe(400);
    token = done.body.user.token;
    expect(smtp.received.filter((m) => m.to.includes("nobody@example.com"))).toHaveLength(0);
  });

  test("the export is a download of the account, without secrets", async () => {
    await api(
      server.origin,
      "POST",
      "/api/articles",
      {
        article: { title: "Before I go", description: "d", body: "Last words" },
      },
      token,
    );
    const res = await fetch(`${server.origin}/api/user/export`, {
      headers: { authorization: `Token ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="quire-export-lifecycle-/);
    const text = await res.text();
    const doc = JSON.parse(text);
    expect(doc.user).toMatchObject({ username: name, email, emailVerified: true });
    expect(doc.articles.map((a: { body: string }) => a.body)).toEqual(["Last words"]);
    expect(text).not.toContain(token);
    expect(text).not.toContain("argon2");
  });

  test("deletion: signed out, profile gone, the name free again", async () => {
    const res = await api(server.origin, "DELETE", "/api/user", { user: { password: newPassword } }, token);
    expect(res.status).toBe(204);
    expect((await api(server.origin, "GET", "/api/user", undefined, token)).status).toBe(401);
    expect((await signIn(newPassword)).status).toBe(401);
    expect((await api(server.origin, "GET", `/api/profiles/${name}`)).status).toBe(404);
    const again = await api(server.origin, "POST", "/api/users", {
      user: { username: name, email, password },
    });
    expect(again.status).toBe(201);
  });

  test("no token or password ever reached the server's output", () => {
    const output = server.stdout.text + server.stderr.text;
    expect(output).toContain("mail sent");
    for (const secret of [...seen, password, newPassword]) expect(output).not.toContain(secret);
  });
});

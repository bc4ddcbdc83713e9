/**
 * kill -9 while jobs run: the compiled binary delivers webhooks to a slow receiver, is killed mid-way with
 * SIGKILL, and restarted on the same database. Every job must end done, and every webhook message must reach
 * the receiver, counted once by its `webhook-id` (the queue runs jobs at least once; the stable id is what
 * makes the effect happen once). Builds the binary (or takes QUIRE_BINARY).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, openDatabase, type Server, startServer } from "../helpers/binary.ts";

const work = mkdtempSync(join(tmpdir(), "quire-crash-"));
const dataDir = join(work, "data");
let binary = "";

const USERS = 20;
const ARTICLES = 40;
const RECEIVER_DELAY_MS = 40;

beforeAll(async () => {
  binary = await buildBinary(work);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const start = () =>
  startServer(
    binary,
    dataDir,
    {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      JOBS_CONCURRENCY: "4",
      JOBS_POLL_INTERVAL_MS: "100",
      // Short, so that the restarted process takes over the killed one's jobs quickly.
      JOBS_LEASE_MS: "1500",
      // Deliveries wait at the receiver's gate while the writes go in: never long enough to time out.
      WEBHOOK_TIMEOUT_MS: "120000",
      LOG_LEVEL: "info",
    },
    work,
  );

async function api(
  server: Server,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ user?: { email: string; token: string } }> {
  const res = await fetch(`${server.origin}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token && { authorization: `Token ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as { user?: { email: string; token: string } };
}

const signUp = (server: Server, name: string) =>
  api(server, "POST", "/api/users", {
    user: { username: name, email: `${name}@example.com`, password: "correct horse battery" },
  });

test("after kill -9 and a restart, every job completes and every webhook takes effect once", async () => {
  // The receiver: slow, so that deliveries are in flight when the server dies; counts by webhook-id. It holds
  // every delivery until all the writes are in, so that a slow machine (sign-ups hash passwords) cannot
  // deliver everything before the kill.
  const received = new Map<string, number>();
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const id = req.headers.get("webhook-id") ?? "none";
      await req.text();
      await gate;
      await Bun.sleep(RECEIVER_DELAY_MS);
      received.set(id, (received.get(id) ?? 0) + 1);
      return new Response(null, { status: 204 });
    },
  });

  try {
    let server = await start();
    // A second process on the live database (SQLite: waiting for the server's write lock when it must).
    const db = await openDatabase(dataDir);
    const adminUser = (await signUp(server, "crashadmin")).user!;
    await db.run("UPDATE users SET role = 'admin' WHERE username = 'crashadmin'");
    const admin = (
      await api(server, "POST", "/api/users/login", {
        user: { email: adminUser.email, password: "correct horse battery" },
      })
    ).user!;
    await api(
      server,
      "POST",
      "/api/admin/webhooks",
      { url: `http://127.0.0.1:${receiver.port}/hook`, events: ["user.created", "article.created"] },
      admin.token,
    );

    for (let i = 0; i < USERS; i++) await signUp(server, `crashuser${i}`);
    for (let i = 0; i < ARTICLES; i++) {
      await api(
        server,
        "POST",
        "/api/articles",
        { article: { title: `Crash ${i}`, description: "d", body: "b" } },
        admin.token,
      );
    }
    const deliveries = USERS + ARTICLES;
    release();

    // Kill mid-way: some deliveries done, some in flight, some not started.
    for (let i = 0; i < 400 && received.size < deliveries / 4; i++) await Bun.sleep(10);
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    const atKill = await db.all<{ state: string; n: number }>(
      "SELECT state, count(*) AS n FROM jobs WHERE type = 'webhook.deliver' GROUP BY state",
    );
    const stateAtKill = Object.fromEntries(atKill.map((r) => [r.state, r.n]));
    expect(received.size).toBeLessThan(deliveries);
    expect(stateAtKill.running ?? 0).toBeGreaterThan(0);

    // Restart on the same database and wait for the queue to drain (recurring housekeeping rows excluded).
    server = await start();
    const unfinished = async () =>
      (await db.get<{ n: number }>(
        `SELECT count(*) AS n FROM jobs WHERE state IN ('pending', 'running')
         AND (unique_key IS NULL OR unique_key NOT LIKE 'recurring:%')`,
      ))!.n;
    for (let i = 0; i < 600 && (await unfinished()) > 0; i++) await Bun.sleep(50);
    expect(await unfinished()).toBe(0);

    const jobs = await db.all<{ type: string; state: string; attempts: number; payload: string }>(
      "SELECT type, state, attempts, payload FROM jobs WHERE unique_key IS NULL OR unique_key NOT LIKE 'recurring:%'",
    );
    expect(jobs.filter((j) => j.state !== "done")).toEqual([]);
    const deliveryJobs = jobs.filter((j) => j.type === "webhook.deliver");
    expect(deliveryJobs).toHaveLength(deliveries);
    expect(jobs.filter((j) => j.type === "mail.welcome")).toHaveLength(USERS + 1);
    // The jobs the killed process held were taken over after their lease, not lost.
    expect(deliveryJobs.filter((j) => j.attempts >= 2).length).toBeGreaterThanOrEqual(
      stateAtKill.running ?? 0,
    );

    // Every message arrived; deduplicated by webhook-id, each took effect exactly once.
    const expected = new Set(deliveryJobs.map((j) => JSON.parse(j.payload).messageId as string));
    expect(new Set(received.keys())).toEqual(expected);
    const duplicates = [...received.values()].reduce((a, n) => a + n - 1, 0);
    console.log(
      `kill -9: ${deliveries} deliveries; at the kill ${JSON.stringify(stateAtKill)}; after restart all done, ` +
        `${expected.size} distinct webhook-ids received, ${duplicates} redelivered (deduplicated by webhook-id)`,
    );

    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    await db.close();
  } finally {
    release();
    receiver.stop(true);
  }
}, 120_000);

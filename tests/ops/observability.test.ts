/** Request ids, the access log, and /metrics: present, moving, per app, and optionally protected. */
import { Database } from "bun:sqlite";
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createArticle, createTestApp, registerUser, type TestApp } from "../helpers/app.ts";
import { testOnlyOn } from "../helpers/engine.ts";
import { fileApp, metric, scrape, settle, tempDir } from "./helpers.ts";

const logLines = (logs: string[]) => logs.map((l) => JSON.parse(l) as Record<string, unknown>);

describe("request id", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  test("a sane X-Request-Id is honoured and returned", async () => {
    const res = await t.request("GET", "/api/tags", { headers: { "x-request-id": "lb-1.2_3-abc" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("lb-1.2_3-abc");
  });

  test.each([
    ["too long", "a".repeat(129)],
    ["spaces", "two words"],
    ["log injection", 'x","level":"fatal'],
    ["non-ASCII", "idé"],
  ])("an insane one (%s) is replaced by a generated id", async (_name, sent) => {
    const res = await t.request("GET", "/api/tags", { headers: { "x-request-id": sent } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("generated when absent, unique per request, also on errors", async () => {
    const a = await t.request("GET", "/api/tags");
    const b = await t.request("GET", "/api/articles/no-such-article");
    const c = await t.request("GET", "/no/such/route");
    expect([a.status, b.status, c.status]).toEqual([200, 404, 404]);
    const ids = [a, b, c].map((r) => r.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  });
});

describe("access log", () => {
  test("one line per request: id, method, route template, status, duration", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    await settle();
    t.logs.length = 0;
    const res = await t.request("GET", `/api/articles/${article.slug}`, {
      headers: { "x-request-id": "trace-42" },
    });
    expect(res.status).toBe(200);
    await t.request("GET", "/nowhere");
    await settle();
    const lines = logLines(t.logs).filter((l) => l.msg === "request");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      reqId: "trace-42",
      method: "GET",
      route: "/api/articles/:slug",
      status: 200,
      level: "info",
    });
    expect(typeof lines[0]!.durationMs).toBe("number");
    expect(JSON.stringify(lines[0])).not.toContain(article.slug); // the template, not the raw path
    expect(lines[1]).toMatchObject({ route: "(unmatched)", status: 404 });
  });

  test("probes and scrapes are logged at debug only", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    await t.request("GET", "/health/live");
    await t.request("GET", "/health/ready");
    await settle();
    expect(logLines(t.logs).filter((l) => l.msg === "request")).toEqual([]);
  });

  test("an unknown error: generic 500 body, stack and request id in the log only", async () => {
    const t = await createTestApp({ LOG_LEVEL: "info" });
    await t.db.run("ALTER TABLE tags RENAME TO tags_gone");
    const res = await t.request("GET", "/api/tags", { headers: { "x-request-id": "boom-1" } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: { server: ["internal error"] } });
    expect(res.text).not.toContain("tags");
    await settle();
    const error = logLines(t.logs).find((l) => l.msg === "unhandled error") as {
      reqId: string;
      err: { stack: string };
    };
    expect(error.reqId).toBe("boom-1");
    expect(error.err.stack).toContain(
      t.engine === "sqlite" ? "no such table" : 'relation "tags" does not exist',
    );
    expect(logLines(t.logs).find((l) => l.msg === "request")).toMatchObject({ reqId: "boom-1", status: 500 });
  });
});

describe("GET /metrics", () => {
  test("request counters and histograms by route template, in-flight, process metrics", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    await t.request("GET", `/api/articles/${article.slug}`);
    await t.request("GET", `/api/articles/${article.slug}`);
    const text = await scrape(t);
    const labels = { method: "GET", route: "/api/articles/:slug", status: "200" };
    expect(metric(text, "http_requests_total", labels)).toBe(2);
    expect(metric(text, "http_request_duration_seconds_count", labels)).toBe(2);
    expect(
      metric(text, "http_requests_total", { method: "POST", route: "/api/articles", status: "201" }),
    ).toBe(1);
    expect(metric(text, "http_requests_in_flight")).toBe(1); // the scrape itself
    expect(metric(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(metric(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(metric(text, "quire_database_size_bytes")).toBeGreaterThan(0);
    // Moving: another request shows up in the next scrape.
    await t.request("GET", `/api/articles/${article.slug}`);
    expect(metric(await scrape(t), "http_requests_total", labels)).toBe(3);
  });

  test("cache hits and misses, job queue depth", async () => {
    const t = await createTestApp();
    const user = await registerUser(t);
    const article = await createArticle(t, user.token);
    const before = await scrape(t);
    await t.request("GET", `/api/articles/${article.slug}`);
    await t.request("GET", `/api/articles/${article.slug}`);
    await t.ctx.jobs.enqueueNow("test.never-handled", {}, { delayMs: 60_000 });
    const after = await scrape(t);
    const hits = (s: string) => metric(s, "quire_cache_hits_total", { cache: "articles" }) ?? 0;
    const misses = (s: string) => metric(s, "quire_cache_misses_total", { cache: "articles" }) ?? 0;
    expect(hits(after) + misses(after) - hits(before) - misses(before)).toBe(2);
    expect(hits(after)).toBeGreaterThan(hits(before));
    expect(metric(after, "quire_jobs", { state: "pending" })).toBe(
      (metric(before, "quire_jobs", { state: "pending" }) ?? 0) + 1,
    );
  });

  test("rate-limit rejections are counted by policy", async () => {
    const t = await createTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_IP_PER_MINUTE: "3" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.request("GET", "/api/tags")).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    await settle();
    // The scrape is itself limited here: read the registry directly.
    const text = await t.ctx.metrics.metrics.text();
    expect(metric(text, "quire_rate_limit_rejections_total", { policy: "ip" })).toBe(
      statuses.filter((s) => s === 429).length,
    );
    expect(metric(text, "http_requests_total", { route: "(unmatched)", status: "429" })).toBeGreaterThan(0);
  });

  // SQLite-only: another process's write lock on the file (Postgres's lock_timeout: tests/store/postgres.test.ts).
  testOnlyOn("sqlite")("SQLITE_BUSY: 503 with Retry-After, counted", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = await fileApp(dir);
      const user = await registerUser(t);
      t.sqlite.run("PRAGMA busy_timeout = 20");
      const other = new Database(join(dir, "quire.db"));
      other.run("BEGIN IMMEDIATE"); // another process holds the write lock
      const res = await t.request("POST", "/api/articles", {
        token: user.token,
        body: { article: { title: "Busy", description: "d", body: "b" } },
      });
      other.run("ROLLBACK");
      other.close();
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.body).toEqual({ errors: { database: ["is busy, try again shortly"] } });
      expect(metric(await scrape(t), "quire_sqlite_busy_total", { source: "http" })).toBe(1);
      t.sqlite.close();
    } finally {
      cleanup();
    }
  });

  test("each app has its own registry", async () => {
    const a = await createTestApp();
    const b = await createTestApp();
    await a.request("GET", "/api/tags");
    await a.request("GET", "/api/tags");
    await b.request("GET", "/api/tags");
    const route = { method: "GET", route: "/api/tags", status: "200" };
    expect(metric(await scrape(a), "http_requests_total", route)).toBe(2);
    expect(metric(await scrape(b), "http_requests_total", route)).toBe(1);
  });

  describe("METRICS_TOKEN", () => {
    const secret = "metrics-secret-0123456789";
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ METRICS_TOKEN: secret });
    });
    test.each([
      ["no header", {}],
      ["wrong token", { authorization: "Bearer metrics-secret-0123456788" }],
      ["wrong scheme", { authorization: `Token ${secret}` }],
      ["prefix of the token", { authorization: "Bearer metrics-secret" }],
    ])("%s → 401", async (_name, headers) => {
      const res = await t.request("GET", "/metrics", { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { token: ["is missing or invalid"] } });
      expect(res.text).not.toContain("http_requests_total");
    });
    test("the right bearer token → 200 Prometheus text", async () => {
      const res = await t.request("GET", "/metrics", { headers: { authorization: `Bearer ${secret}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
      expect(res.text).toContain("# TYPE http_requests_total counter");
    });
    test("a short token is a configuration error", async () => {
      await expect(createTestApp({ METRICS_TOKEN: "short" })).rejects.toThrow("METRICS_TOKEN");
    });
  });
});

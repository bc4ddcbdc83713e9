/** The webhook endpoints admin API: permissions, secrets, validation, and the SSRF refusals at registration. */
import { describe, expect, test } from "bun:test";
import { count, createTestApp, envelope, registerUser } from "../helpers/app.ts";
import { createAdmin } from "../jobs/helpers.ts";

const PUBLIC_URL = "https://93.184.215.14/hooks/quire"; // a public address: no DNS needed
const body = { url: PUBLIC_URL, events: ["article.created", "comment.created"] };

describe("who may manage webhooks", () => {
  const routes: [string, string, unknown?][] = [
    ["POST", "/api/admin/webhooks", body],
    ["GET", "/api/admin/webhooks"],
    ["GET", "/api/admin/webhooks/1"],
    ["DELETE", "/api/admin/webhooks/1"],
    ["GET", "/api/admin/webhooks/1/deliveries"],
  ];
  for (const [method, path, payload] of routes) {
    test(`${method} ${path}: 401 anonymous, 403 editor`, async () => {
      const t = await createTestApp();
      const admin = await createAdmin(t);
      await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
      expect((await t.request(method, path, { body: payload })).status).toBe(401);
      const user = await registerUser(t);
      const res = await t.request(method, path, { token: user.token, body: payload });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(envelope("admin", "forbidden"));
      expect(await count(t, "webhooks")).toBe(1);
    });
  }
});

describe("endpoints", () => {
  test("creation returns the whole secret once; everything else masks it", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const created = await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
    expect(created.status).toBe(201);
    const hook = created.body.webhook;
    expect(hook).toMatchObject({
      id: 1,
      url: PUBLIC_URL,
      events: body.events,
      enabled: true,
      circuit: "closed",
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(hook.secret.slice(6), "base64")).toHaveLength(32);
    expect(await t.db.get("SELECT secret FROM webhooks")).toEqual({ secret: hook.secret });

    const masked = `whsec_********${hook.secret.slice(-4)}`;
    const list = await t.request("GET", "/api/admin/webhooks", { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ webhooksCount: 1, webhooks: [{ ...hook, secret: masked }] });
    const one = await t.request("GET", "/api/admin/webhooks/1", { token: admin.token });
    expect(one.body).toEqual({ webhook: { ...hook, secret: masked } });
    expect(list.text + one.text).not.toContain(hook.secret.slice(6, 30));
  });

  test("two endpoints get different secrets", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const a = await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
    const b = await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
    expect(a.body.webhook.secret).not.toBe(b.body.webhook.secret);
  });

  test("delete: 204, then 404 everywhere; its delivery log goes with it", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
    await t.db.run(
      "INSERT INTO webhook_deliveries (webhook_id, message_id, event, attempt, ok) VALUES (1, 'msg_1', 'article.created', 1, true)",
    );
    const deliveries = await t.request("GET", "/api/admin/webhooks/1/deliveries", { token: admin.token });
    expect(deliveries.body).toMatchObject({
      deliveriesCount: 1,
      deliveries: [{ messageId: "msg_1", ok: true }],
    });

    const del = await t.request("DELETE", "/api/admin/webhooks/1", { token: admin.token });
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect(await count(t, "webhooks")).toBe(0);
    expect(await count(t, "webhook_deliveries")).toBe(0);
    const audit = await t.db.all(
      "SELECT action, actor_id, target_id, detail FROM audit_log WHERE action LIKE 'webhook.%' ORDER BY id",
    );
    expect(audit).toEqual([
      {
        action: "webhook.created",
        actor_id: admin.id,
        target_id: "1",
        detail: JSON.stringify({ url: PUBLIC_URL }),
      },
      {
        action: "webhook.deleted",
        actor_id: admin.id,
        target_id: "1",
        detail: JSON.stringify({ url: PUBLIC_URL }),
      },
    ]);
    for (const [method, path] of [
      ["GET", "/api/admin/webhooks/1"],
      ["DELETE", "/api/admin/webhooks/1"],
      ["GET", "/api/admin/webhooks/1/deliveries"],
    ] as const) {
      const res = await t.request(method, path, { token: admin.token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(envelope("webhook", "not found"));
    }
    expect((await t.request("GET", "/api/admin/webhooks/x1", { token: admin.token })).status).toBe(422);
  });

  test("bad bodies are 422 naming the field, and nothing is stored", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    const cases: [unknown, string][] = [
      [{ events: ["article.created"] }, "url"],
      [{ url: PUBLIC_URL }, "events"],
      [{ url: PUBLIC_URL, events: [] }, "events"],
      [{ url: PUBLIC_URL, events: ["article.exploded"] }, "events"],
      [{ url: PUBLIC_URL, events: ["article.created", "article.created"] }, "events"],
      [{ url: 42, events: ["article.created"] }, "url"],
      [{ url: `https://example.com/${"a".repeat(2048)}`, events: ["user.created"] }, "url"],
      [{ url: "not a url", events: ["user.created"] }, "url"],
      [{ url: "https://user:pass@93.184.215.14/", events: ["user.created"] }, "url"],
    ];
    for (const [payload, field] of cases) {
      const res = await t.request("POST", "/api/admin/webhooks", { token: admin.token, body: payload });
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
    expect(await count(t, "webhooks")).toBe(0);
  });

  test("at most 50 endpoints", async () => {
    const t = await createTestApp();
    const admin = await createAdmin(t);
    for (let i = 0; i < 50; i++)
      await t.db.run("INSERT INTO webhooks (url, events, secret) VALUES ('https://a.example', '[]', 's')");
    const res = await t.request("POST", "/api/admin/webhooks", { token: admin.token, body });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(envelope("webhooks", "limit of 50 endpoints reached"));
    expect(await count(t, "webhooks")).toBe(50);
  });
});

describe("SSRF: URLs that reach inside are refused at registration", () => {
  const refused: [string, string][] = [
    ["http://127.0.0.1/hook", "resolves to a non-public address (loopback)"],
    ["http://127.255.0.9:8080/", "resolves to a non-public address (loopback)"],
    ["http://10.0.0.1/", "resolves to a non-public address (private)"],
    ["http://172.16.5.4/", "resolves to a non-public address (private)"],
    ["http://192.168.1.1/", "resolves to a non-public address (private)"],
    ["http://169.254.169.254/latest/meta-data/", "resolves to a non-public address (linkLocal)"],
    ["http://100.64.0.1/", "resolves to a non-public address (carrierGradeNat)"],
    ["http://0.0.0.0:3000/", "resolves to a non-public address (unspecified)"],
    ["http://224.0.0.1/", "resolves to a non-public address (multicast)"],
    ["http://0x7f000001/", "resolves to a non-public address (loopback)"],
    ["http://2130706433/", "resolves to a non-public address (loopback)"],
    ["http://017700000001/", "resolves to a non-public address (loopback)"],
    ["http://127.1/", "resolves to a non-public address (loopback)"],
    ["http://[::1]/", "resolves to a non-public address (loopback)"],
    ["http://[::ffff:127.0.0.1]/", "resolves to a non-public address (loopback)"],
    ["http://[::ffff:a9fe:a9fe]/", "resolves to a non-public address (linkLocal)"],
    ["http://[fe80::1]/", "resolves to a non-public address (linkLocal)"],
    ["http://[fd00::1]/", "resolves to a non-public address (uniqueLocal)"],
    ["http://[64:ff9b::7f00:1]/", "resolves to a non-public address (rfc6052)"],
    ["http://localhost:3000/hook", "resolves to a non-public address (loopback)"],
    ["file:///etc/passwd", "must use http or https"],
    ["ftp://93.184.215.14/", "must use http or https"],
    ["gopher://93.184.215.14:70/", "must use http or https"],
  ];
  for (const [url, message] of refused) {
    test(url, async () => {
      const t = await createTestApp();
      const admin = await createAdmin(t);
      const res = await t.request("POST", "/api/admin/webhooks", {
        token: admin.token,
        body: { url, events: ["user.created"] },
      });
      expect(res.status).toBe(422);
      expect(res.body).toEqual(envelope("url", message));
      expect(await count(t, "webhooks")).toBe(0);
    });
  }

  test("WEBHOOK_ALLOW_PRIVATE_NETWORKS=true lets loopback through (tests and development)", async () => {
    const t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    const admin = await createAdmin(t);
    const res = await t.request("POST", "/api/admin/webhooks", {
      token: admin.token,
      body: { url: "http://127.0.0.1:9/hook", events: ["user.created"] },
    });
    expect(res.status).toBe(201);
    // The scheme rule still holds.
    const file = await t.request("POST", "/api/admin/webhooks", {
      token: admin.token,
      body: { url: "file:///etc/passwd", events: ["user.created"] },
    });
    expect(file.status).toBe(422);
  });
});

/**
 * What the OpenAPI document claims, checked against the server route by route: the statuses it derives
 * from each route's kind (401, 403, 304, 413, 415, 422, 429, 503) really are answered, with the very bodies
 * its examples show, and only where it says so.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { addComment, createArticle, createTestApp, registerUser, type TestApp } from "../helpers/app.ts";
import {
  type Doc,
  examplesOf,
  fill,
  type Node,
  type Operation,
  operations,
  responseOf,
  WRITES,
} from "../helpers/openapi.ts";
import { createAdmin } from "../jobs/helpers.ts";

const documentOf = async (t: TestApp): Promise<Doc> => (await t.request("GET", "/openapi/json")).body;

/** The example bodies a status of an operation shows. */
function documented(doc: Doc, op: Node, status: number): unknown[] {
  const response = responseOf(doc, op, status);
  const media = response?.content?.["application/json"];
  return media ? examplesOf(doc, media) : [];
}

/** A plain GET of the WebSocket endpoint is 426 whatever it carries: its statuses are the upgrade's. */
const isUpgrade = (o: Operation) => o.path === "/api/realtime";

const tokenKind = (op: Node): "none" | "optional" | "required" => {
  const security = (op.security ?? []) as Node[];
  if (!security.some((r) => r.Token)) return "none";
  return security.some((r) => Object.keys(r).length === 0) ? "optional" : "required";
};

describe("tokens and roles", () => {
  let t: TestApp;
  let doc: Doc;
  beforeAll(async () => {
    t = await createTestApp();
    doc = await documentOf(t);
  });

  test("401 without a token exactly where security requires one, with the documented body", async () => {
    for (const o of operations(doc).filter((o) => !isUpgrade(o))) {
      const res = await t.request(o.method.toUpperCase(), fill(o.path, {}));
      const required = tokenKind(o.op) === "required";
      expect({ route: `${o.method} ${o.path}`, unauthorized: res.status === 401 }).toEqual({
        route: `${o.method} ${o.path}`,
        unauthorized: required,
      });
      if (required) expect(documented(doc, o.op, 401)).toContainEqual(res.body);
    }
  });

  test("a malformed token is 401 wherever security takes one, and ignored elsewhere", async () => {
    for (const o of operations(doc).filter((o) => !isUpgrade(o))) {
      const res = await t.request(o.method.toUpperCase(), fill(o.path, {}), { token: "not-a-jwt" });
      const takesToken = tokenKind(o.op) !== "none";
      expect({ route: `${o.method} ${o.path}`, unauthorized: res.status === 401 }).toEqual({
        route: `${o.method} ${o.path}`,
        unauthorized: takesToken,
      });
      if (takesToken) expect(documented(doc, o.op, 401)).toContainEqual(res.body);
    }
  });

  test("403 for a non-admin exactly on the routes whose security names the admin role", async () => {
    for (const o of operations(doc).filter((o) => tokenKind(o.op) !== "none" && !isUpgrade(o))) {
      // A fresh editor each time: the logout routes end the session they are called with.
      const editor = await registerUser(t);
      const res = await t.request(o.method.toUpperCase(), fill(o.path, {}), { token: editor.token });
      const admin = (o.op.security as Node[]).some((r) => r.Token?.includes("admin"));
      const refused = res.status === 403 && res.body?.errors?.admin !== undefined;
      expect({ route: `${o.method} ${o.path}`, refused }).toEqual({
        route: `${o.method} ${o.path}`,
        refused: admin,
      });
      if (admin) expect(documented(doc, o.op, 403)).toContainEqual(res.body);
    }
  });
});

describe("conditional GETs", () => {
  test("304 exactly where documented: those GETs send an ETag and honour If-None-Match", async () => {
    const t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    const doc = await documentOf(t);
    const admin = await createAdmin(t);
    const article = await createArticle(t, admin.token, { tagList: ["dragons"] });
    await addComment(t, admin.token, article.slug);
    const hook = await t.request("POST", "/api/admin/webhooks", {
      token: admin.token,
      body: { url: "https://93.184.215.14/hooks/quire", events: ["article.created"] },
    });
    expect(hook.status).toBe(201);
    const values = { username: admin.username, slug: article.slug, id: String(hook.body.webhook.id) };

    let conditional = 0;
    for (const o of operations(doc).filter((o) => o.method === "get")) {
      const path = fill(o.path, values);
      const res = await t.request("GET", path, { token: admin.token });
      const etag = res.headers.get("etag");
      const route = `GET ${o.path}`;
      if (!o.op.responses["304"]) {
        expect({ route, etag }).toEqual({ route, etag: null });
        continue;
      }
      expect({ route, status: res.status, tagged: !!etag }).toEqual({ route, status: 200, tagged: true });
      const again = await t.request("GET", path, { token: admin.token, headers: { "if-none-match": etag! } });
      expect({ route, status: again.status, body: again.text }).toEqual({ route, status: 304, body: "" });
      conditional++;
    }
    expect(conditional).toBeGreaterThanOrEqual(18);
  });
});

describe("bodies", () => {
  const LIMIT = 256;
  let t: TestApp;
  let doc: Doc;
  let withBody: Operation[];
  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT_BYTES: String(LIMIT) });
    doc = await documentOf(t);
    withBody = operations(doc).filter((o) => o.op.requestBody);
    expect(withBody.length).toBeGreaterThanOrEqual(9);
  });

  test("every route with a body answers 413, 415 and malformed-JSON 422 as documented", async () => {
    for (const o of withBody) {
      const method = o.method.toUpperCase();
      const path = fill(o.path, {});
      const route = `${method} ${o.path}`;
      const tooLarge = await t.request(method, path, { body: JSON.stringify({ x: "y".repeat(LIMIT) }) });
      expect({ route, status: tooLarge.status }).toEqual({ route, status: 413 });
      expect(documented(doc, o.op, 413)).toEqual([tooLarge.body]);
      const text = await t.request(method, path, {
        body: "hello",
        headers: { "content-type": "text/plain" },
      });
      expect({ route, status: text.status }).toEqual({ route, status: 415 });
      expect(documented(doc, o.op, 415)).toEqual([text.body]);
      const broken = await t.request(method, path, { body: "{" });
      expect({ route, status: broken.status }).toEqual({ route, status: 422 });
      expect(documented(doc, o.op, 422)).toContainEqual(broken.body);
    }
  });

  test("the documented request examples are accepted: no 422 for them", async () => {
    const admin = await createAdmin(t);
    for (const o of withBody) {
      const media = o.op.requestBody.content["application/json"];
      for (const example of examplesOf(doc, media)) {
        const res = await t.request(o.method.toUpperCase(), fill(o.path, { name: "comments" }), {
          token: admin.token,
          body: example,
        });
        const route = `${o.method} ${o.path}`;
        // 404 (no such article or user here) or a refusal by the service is fine; a validation error is not.
        // (The webhook example's URL is an IP literal: the server would refuse a name it cannot resolve.)
        expect({ route, example, status: res.status === 422 ? res.body : "accepted" }).toEqual({
          route,
          example,
          status: "accepted",
        });
      }
    }
  });
});

describe("parameters", () => {
  test("the documented 422 for a bad path or query parameter is what the server answers", async () => {
    const t = await createTestApp();
    const doc = await documentOf(t);
    const admin = await createAdmin(t);
    let checked = 0;
    for (const o of operations(doc)) {
      for (const example of documented(doc, o.op, 422) as { errors: Record<string, string[]> }[]) {
        const [name, [message]] = Object.entries(example.errors)[0] as [string, string[]];
        // The examples the builder words from the parameter's schema (routes' own ones are checked elsewhere).
        if (!/^(is invalid|is too long \(maximum is \d+ characters\))$/.test(message!)) continue;
        const parameter = (o.op.parameters ?? []).find((p: Node) => p.name === name && p.in !== "header");
        if (!parameter) continue;
        const long = /maximum is (\d+) characters/.exec(message!);
        const bad = long ? "a".repeat(Number(long[1]) + 1) : "!bad!";
        const path =
          parameter.in === "path" ? fill(o.path, { [name]: bad }) : `${fill(o.path, {})}?${name}=${bad}`;
        const res = await t.request(o.method.toUpperCase(), path, { token: admin.token });
        expect({ route: `${o.method} ${o.path}`, name, body: res.body }).toEqual({
          route: `${o.method} ${o.path}`,
          name,
          body: example,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});

describe("rate limits and maintenance", () => {
  test("every operation answers 429 with Retry-After and the documented body once the IP budget is spent", async () => {
    const t = await createTestApp({ RATE_LIMIT_ENABLED: "true", RATE_LIMIT_IP_PER_MINUTE: "1" });
    const doc = (await t.request("GET", "/openapi/json")).body; // spends the budget of one
    const shape = documented(doc, doc.paths["/api/tags"].get, 429)[0] as { errors: { rate: string[] } };
    expect(shape.errors.rate[0]).toMatch(/^limit exceeded, retry in \d+ seconds$/);
    for (const o of operations(doc)) {
      const res = await t.request(o.method.toUpperCase(), fill(o.path, {}));
      const route = `${o.method} ${o.path}`;
      expect({ route, status: res.status, retryAfter: Number(res.headers.get("retry-after")) > 0 }).toEqual({
        route,
        status: 429,
        retryAfter: true,
      });
      expect(Object.keys(res.body.errors)).toEqual(["rate"]);
      expect(res.body.errors.rate[0]).toMatch(/^limit exceeded, retry in \d+ seconds?$/);
    }
  });

  test("in maintenance every write documented with the maintenance 503 gets it, and only those", async () => {
    const t = await createTestApp();
    const doc = await documentOf(t);
    const admin = await createAdmin(t);
    const on = await t.request("PATCH", "/api/admin/flags/maintenance", {
      token: admin.token,
      body: { enabled: true },
    });
    expect(on.status).toBe(200);
    let refused = 0;
    let open = 0;
    for (const o of operations(doc).filter((o) => WRITES.has(o.method))) {
      const res = await t.request(o.method.toUpperCase(), fill(o.path, {}));
      const route = `${o.method} ${o.path}`;
      const examples = documented(doc, o.op, 503);
      const claims = examples.some(
        (e) => (e as { errors: object }).errors && "maintenance" in (e as Node).errors,
      );
      expect({ route, status: res.status === 503 ? 503 : "other" }).toEqual({
        route,
        status: claims ? 503 : "other",
      });
      if (claims) {
        expect(examples).toContainEqual(res.body);
        expect(res.headers.get("retry-after")).toBe("120");
        refused++;
      } else open++;
      // Every write also documents the busy database (it can happen to any of them).
      expect(examples).toContainEqual({ errors: { database: ["is busy, try again shortly"] } });
    }
    // Content writes are refused; the admin API and signing in and out stay open (src/http/maintenance.ts).
    expect({ refused, open }).toEqual({ refused: 16, open: 13 });
  });
});

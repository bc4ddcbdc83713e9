/**
 * The OpenAPI document and the docs UI: generated from the route schemas, served offline by the app. What the
 * document claims about each route is checked against the server in openapi-truth.test.ts.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Value } from "@sinclair/typebox/value";
import { ErrorEnvelope } from "../../src/http/model.ts";
import { description } from "../../src/http/openapi.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  type Doc,
  examplesOf,
  type Node,
  operations,
  refsIn,
  resolve,
  responseOf,
  WRITES,
} from "../helpers/openapi.ts";

type Operation = {
  tags?: string[];
  summary?: string;
  requestBody?: { content: Record<string, { schema: { type?: string } }> };
  responses: Record<string, unknown>;
};

describe("OpenAPI document", () => {
  let t: TestApp;
  let doc: Doc;
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.request("GET", "/openapi/json");
    expect(res.status).toBe(200);
    expect(res.body.info.title).toBe("Quire API");
    doc = res.body;
    paths = res.body.paths;
  });

  test("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  test("every $ref resolves, and the shared schemas are components referenced from the routes", async () => {
    for (const ref of refsIn(doc)) expect(() => resolve(doc, { $ref: ref })).not.toThrow();
    const used = refsIn(doc.paths).concat(refsIn(doc.components.responses));
    for (const name of ["Article", "ArticleListItem", "Profile", "User", "Comment", "ErrorEnvelope"]) {
      expect({ name, defined: !!doc.components.schemas[name] }).toEqual({ name, defined: true });
      const ref = `#/components/schemas/${name}`;
      const referenced = used.includes(ref) || refsIn(doc.components.schemas).includes(ref);
      expect({ name, referenced }).toEqual({ name, referenced: true });
    }
    // Profile is one component, referenced by articles and comments, not copied into them.
    expect(doc.components.schemas.Article.properties.author).toEqual({
      $ref: "#/components/schemas/Profile",
    });
    expect(doc.components.schemas.Comment.properties.author).toEqual({
      $ref: "#/components/schemas/Profile",
    });
    // Every component is used somewhere.
    const everywhere = refsIn(doc);
    for (const name of Object.keys(doc.components.schemas))
      expect({ name, used: everywhere.includes(`#/components/schemas/${name}`) }).toEqual({
        name,
        used: true,
      });
  });

  test("every operation has a summary, a description, a known tag and its own operationId", async () => {
    const tags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    const ids = new Set<string>();
    for (const { path, method, op } of operations(doc)) {
      const described = {
        path,
        method,
        summary: typeof op.summary === "string" && op.summary.length > 3,
        description: typeof op.description === "string" && op.description.length > 10,
        tagged: op.tags?.length === 1 && tags.has(op.tags[0]),
      };
      expect(described).toEqual({ path, method, summary: true, description: true, tagged: true });
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
    }
  });

  test("every operation documents 429, every write 503, every JSON GET 304 with its ETag", async () => {
    for (const { path, method, op } of operations(doc)) {
      const ok = responseOf(doc, op, 200);
      // Downloads (an account export) are streamed: they carry Content-Disposition instead of an ETag.
      const download = !!ok?.headers?.["Content-Disposition"];
      const jsonGet = method === "get" && !!ok?.content?.["application/json"] && !download;
      expect({
        path,
        method,
        429: !!op.responses["429"],
        503: !!op.responses["503"] || !WRITES.has(method),
        304: !!op.responses["304"] === jsonGet,
        etag: !jsonGet || !!ok.headers?.ETag,
        ifNoneMatch: !jsonGet || refsIn(op.parameters).includes("#/components/parameters/If-None-Match"),
      }).toEqual({ path, method, 429: true, 503: true, 304: true, etag: true, ifNoneMatch: true });
      expect(resolve(doc, op.responses["429"]).headers["Retry-After"]).toBeDefined();
    }
    const conditional = operations(doc).filter(({ op }) => op.responses["304"]);
    expect(conditional.length).toBeGreaterThanOrEqual(18);
  });

  test("routes that take a token document 401, admin routes 403, routes with a body 413, 415 and 422", async () => {
    for (const { path, method, op } of operations(doc)) {
      const token = (op.security ?? []).filter((r: Node) => r.Token);
      const admin = token.some((r: Node) => r.Token.includes("admin"));
      expect({ path, admin }).toEqual({ path, admin: path.startsWith("/api/admin") });
      expect({
        path,
        method,
        401: token.length === 0 || !!op.responses["401"],
        403: !admin || !!op.responses["403"],
        413: !op.requestBody || !!op.responses["413"],
        415: !op.requestBody || !!op.responses["415"],
        422: !op.requestBody || !!op.responses["422"],
      }).toEqual({ path, method, 401: true, 403: true, 413: true, 415: true, 422: true });
    }
  });

  test('every response is described (never Elysia\'s "Response for status N")', () => {
    for (const { path, method, op } of operations(doc))
      for (const [status, ref] of Object.entries(op.responses as Record<string, Node>)) {
        const text = resolve(doc, ref).description;
        expect({
          path,
          method,
          status,
          ok: typeof text === "string" && !/^Response for status/.test(text),
        }).toEqual({ path, method, status, ok: true });
      }
    expect(JSON.stringify(doc)).not.toContain("Response for status");
  });

  test("every body, request and response, has an example; errors show the envelope with real messages", async () => {
    let errorExamples = 0;
    for (const { path, method, op } of operations(doc)) {
      const bodies: [string, Node][] = Object.entries(op.responses as Record<string, Node>).map(
        ([status, ref]) => [status, resolve(doc, ref)],
      );
      if (op.requestBody) bodies.push(["request", op.requestBody]);
      for (const [status, body] of bodies)
        for (const [type, media] of Object.entries((body.content ?? {}) as Record<string, Node>)) {
          const examples = examplesOf(doc, media);
          expect({ path, method, status, type, examples: examples.length > 0 }).toEqual({
            path,
            method,
            status,
            type,
            examples: true,
          });
          if (status.startsWith("4") || status.startsWith("5")) {
            if (path === "/health/ready") continue; // its 503 is the health body, not an error
            for (const example of examples) {
              expect({ path, status, example, envelope: Value.Check(ErrorEnvelope, example) }).toEqual({
                path,
                status,
                example,
                envelope: true,
              });
              const messages = Object.values((example as { errors: Record<string, string[]> }).errors).flat();
              expect(messages.length).toBeGreaterThan(0);
              for (const m of messages) expect(m.length).toBeGreaterThan(2);
              errorExamples++;
            }
          }
        }
    }
    expect(errorExamples).toBeGreaterThan(200);
  });

  test("examples are what the server accepts and answers: each passes its route's own schema", async () => {
    let checked = 0;
    for (const route of t.app.routes) {
      const hooks = route.hooks as { body?: Node; response?: Record<string, Node> };
      const schemas: [string, Node][] = Object.entries(hooks.response ?? {});
      if (hooks.body) schemas.push(["body", hooks.body]);
      for (const [status, schema] of schemas)
        for (const example of (schema.examples ?? []) as unknown[]) {
          if (typeof example === "string") continue; // text bodies (metrics, event streams)
          const valid = Value.Check(schema, example);
          expect({ route: `${route.method} ${route.path}`, status, valid }).toEqual({
            route: `${route.method} ${route.path}`,
            status,
            valid: true,
          });
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(60);
  });

  test("counts and pagination are integers, never strings", async () => {
    const props: [string, Node][] = [];
    const walk = (node: Node) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node.properties ?? {})) props.push([k, v]);
        Object.values(node).forEach(walk);
      }
    };
    walk(doc);
    const counts = props.filter(([k]) => k === "favoritesCount" || k.endsWith("Count"));
    expect(counts.length).toBeGreaterThan(5);
    for (const [name, schema] of counts)
      expect({ name, type: schema.type }).toEqual({ name, type: "integer" });
    let pages = 0;
    for (const { path, op } of operations(doc))
      for (const p of (op.parameters ?? []) as Node[]) {
        if (p.name !== "limit" && p.name !== "offset") continue;
        expect({ path, name: p.name, type: p.schema.type, min: p.schema.minimum }).toEqual({
          path,
          name: p.name,
          type: "integer",
          min: p.name === "limit" ? 1 : 0,
        });
        pages++;
      }
    expect(pages).toBeGreaterThanOrEqual(16);
  });

  test("is built once and then served with its ETag", async () => {
    const first = await t.request("GET", "/openapi/json");
    const again = await t.request("GET", "/openapi/json", {
      headers: { "if-none-match": first.headers.get("etag")! },
    });
    expect(first.headers.get("etag")).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(first.text).toBe(JSON.stringify(doc));
  });

  test("documents every RealWorld endpoint", async () => {
    for (const [path, method] of [
      ["/api/users", "post"],
      ["/api/users/login", "post"],
      ["/api/user", "get"],
      ["/api/user", "put"],
      ["/api/profiles/{username}", "get"],
      ["/api/profiles/{username}/follow", "post"],
      ["/api/profiles/{username}/follow", "delete"],
      ["/api/articles", "get"],
      ["/api/articles", "post"],
      ["/api/articles/feed", "get"],
      ["/api/articles/{slug}", "get"],
      ["/api/articles/{slug}", "put"],
      ["/api/articles/{slug}", "delete"],
      ["/api/articles/{slug}/favorite", "post"],
      ["/api/articles/{slug}/favorite", "delete"],
      ["/api/articles/{slug}/comments", "get"],
      ["/api/articles/{slug}/comments", "post"],
      ["/api/articles/{slug}/comments/{id}", "delete"],
      ["/api/tags", "get"],
    ] as const) {
      expect({ path, method, documented: !!paths[path]?.[method] }).toEqual({
        path,
        method,
        documented: true,
      });
    }
  });

  test("every operation has a tag, a summary, a success response and its error responses", async () => {
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const codes = Object.keys(op.responses ?? {});
        expect({ path, method, tagged: (op.tags?.length ?? 0) > 0, summary: !!op.summary }).toEqual({
          path,
          method,
          tagged: true,
          summary: true,
        });
        // 101 for the WebSocket upgrade.
        expect({ path, method, success: codes.some((c) => c.startsWith("2") || c === "101") }).toEqual({
          path,
          method,
          success: true,
        });
        const authenticated = path.startsWith("/api/admin") || path === "/api/user";
        if (authenticated)
          expect({ path, method, has401: codes.includes("401") }).toEqual({ path, method, has401: true });
      }
    }
  });

  test("JSON request bodies are documented with their schema", async () => {
    const register = paths["/api/users"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(register?.type).toBe("object");
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.requestBody) continue;
        expect({ path, method, types: Object.keys(op.requestBody.content) }).toEqual({
          path,
          method,
          types: ["application/json"],
        });
      }
    }
  });
});

describe("docs UI", () => {
  test("the API description reaches the page's meta tags intact (escaped), never as stray text", async () => {
    const t = await createTestApp();
    const page = await t.request("GET", "/openapi");
    const metas: Record<string, string | null> = {};
    const stray: string[] = [];
    const tags: string[] = [];
    let inScriptOrStyle = 0;
    await new HTMLRewriter()
      .on("meta", {
        element(e) {
          metas[e.getAttribute("name") ?? ""] = e.getAttribute("content");
        },
      })
      .on("*", {
        element(e) {
          tags.push(e.tagName);
          if (e.tagName === "script" || e.tagName === "style" || e.tagName === "title") {
            inScriptOrStyle++;
            e.onEndTag(() => {
              inScriptOrStyle--;
            });
          }
        },
        text(text) {
          if (inScriptOrStyle === 0 && text.text.trim() !== "") stray.push(text.text);
        },
      })
      .transform(new Response(page.text))
      .text();
    expect(description).toContain('"'); // the text that used to break out of the attribute
    expect(description).toContain("<token>");
    // HTMLRewriter hands attributes over as written: decode the entities an HTML parser would.
    const entities: Record<string, string> = { quot: '"', lt: "<", gt: ">", amp: "&", "#x27": "'" };
    const decode = (s: string | null | undefined) =>
      s?.replace(/&(quot|lt|gt|amp|#x27);/g, (_, e) => entities[e]!);
    expect(decode(metas.description)).toBe(description);
    expect(decode(metas["og:description"])).toBe(description);
    expect(stray).toEqual([]);
    expect(tags).not.toContain("token");
  });

  test("the page loads its assets from the app itself, never a CDN", async () => {
    const t = await createTestApp();
    const page = await t.request("GET", "/openapi");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).not.toMatch(/https?:\/\/(?!localhost)/);
    const scripts = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toContain("/openapi/assets/swagger-ui-bundle.js");
    for (const asset of scripts) {
      const res = await t.request("GET", asset);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect(res.text.length).toBeGreaterThan(10_000);
    }
  });
});

/** The OpenAPI document and the docs UI: generated from the route schemas, served offline by the app. */
import { beforeAll, describe, expect, test } from "bun:test";
import { description } from "../../src/http/openapi.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

type Operation = {
  tags?: string[];
  summary?: string;
  requestBody?: { content: Record<string, { schema: { type?: string } }> };
  responses: Record<string, unknown>;
};

describe("OpenAPI document", () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    t = createTestApp();
    const res = await t.request("GET", "/openapi/json");
    expect(res.status).toBe(200);
    expect(res.body.info.title).toBe("Quire API");
    paths = res.body.paths;
  });

  test("documents every RealWorld endpoint", () => {
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

  test("every operation has a tag, a summary, a success response and its error responses", () => {
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

  test("JSON request bodies are documented with their schema", () => {
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
    const t = createTestApp();
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
    const t = createTestApp();
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

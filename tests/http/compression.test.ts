/**
 * Compression by Accept-Encoding (src/http/compression.ts): list pages and the Swagger bundle leave compressed
 * when the client accepts it, decompress to exactly the identity bytes, carry Content-Encoding, Vary:
 * Accept-Encoding and a weak ETag, and still revalidate to a 304. Small bodies, q=0, HEAD and event streams
 * are left alone.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync } from "node:zlib";
import { MIN_COMPRESS_BYTES, negotiateEncoding } from "../../src/http/compression.ts";
import { createArticle, createTestApp, registerUser, type TestApp, type TestUser } from "../helpers/app.ts";

let t: TestApp;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp({ CORS_ORIGINS: "https://app.example.com" });
  user = await registerUser(t);
  for (let i = 0; i < 10; i++)
    await createArticle(t, user.token, {
      body: `Body ${i}: ${"words and more words ".repeat(20)}`,
      tagList: ["x"],
    });
});

/** GET `path` with raw headers; the body is returned as the bytes on the wire (not decoded). */
async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await t.app.handle(t.buildRequest(method, path, { headers }));
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function decode(bytes: Uint8Array<ArrayBuffer>, encoding: string | null): string {
  const raw =
    encoding === "gzip" ? Bun.gunzipSync(bytes) : encoding === "br" ? brotliDecompressSync(bytes) : bytes;
  return new TextDecoder().decode(raw);
}

const varyOf = (h: Headers) => (h.get("vary") ?? "").split(",").map((s) => s.trim());

describe("JSON answers", () => {
  test("a list page is gzip- or brotli-encoded as asked, and decodes to the identity body", async () => {
    const plain = await get("/api/articles");
    expect(plain.res.headers.get("content-encoding")).toBeNull();
    expect(plain.bytes.byteLength).toBeGreaterThan(MIN_COMPRESS_BYTES);
    const identity = new TextDecoder().decode(plain.bytes);
    expect(JSON.parse(identity).articlesCount).toBe(10);
    for (const [accept, encoding] of [
      ["gzip, deflate, br, zstd", "gzip"], // equal q: the cheaper coding
      ["br", "br"],
      ["br;q=1, gzip;q=0.5", "br"],
      ["*", "gzip"],
    ] as const) {
      const { res, bytes } = await get("/api/articles", { "accept-encoding": accept });
      expect({ accept, encoding: res.headers.get("content-encoding") }).toEqual({ accept, encoding });
      expect(bytes.byteLength).toBeLessThan(plain.bytes.byteLength / 3);
      expect(decode(bytes, encoding)).toBe(identity);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(varyOf(res.headers)).toEqual(["Origin", "Authorization", "Accept-Encoding"]);
      expect(res.headers.get("etag")).toBe(`W/${plain.res.headers.get("etag")}`);
    }
  });

  test("q=0 is honoured: a refused coding is never used", async () => {
    for (const [accept, encoding] of [
      ["gzip;q=0", null],
      ["gzip;q=0, br", "br"],
      ["br;q=0, gzip;q=0.1", "gzip"],
      ["*;q=0", null],
      ["identity", null],
      ["gzip;q=0, br;q=0, identity", null],
      ["deflate, compress", null],
    ] as const) {
      const { res, bytes } = await get("/api/articles", { "accept-encoding": accept });
      expect({ accept, encoding: res.headers.get("content-encoding") }).toEqual({ accept, encoding });
      expect(JSON.parse(decode(bytes, encoding)).articlesCount).toBe(10);
      if (encoding === null) expect(varyOf(res.headers)).not.toContain("Accept-Encoding");
    }
  });

  test("the compressed variant revalidates: its weak ETag gets a 304 that names it", async () => {
    const first = await get("/api/articles", { "accept-encoding": "gzip" });
    const etag = first.res.headers.get("etag")!;
    expect(etag).toStartWith('W/"');
    const again = await get("/api/articles", { "accept-encoding": "gzip", "if-none-match": etag });
    expect(again.res.status).toBe(304);
    expect(again.bytes.byteLength).toBe(0);
    expect(again.res.headers.get("etag")).toBe(etag);
    expect(varyOf(again.res.headers)).toContain("Accept-Encoding");
    // The identity holder's strong tag still matches too, and is answered as it was sent.
    const strong = etag.slice(2);
    const identity = await get("/api/articles", { "if-none-match": strong });
    expect(identity.res.status).toBe(304);
    expect(identity.res.headers.get("etag")).toBe(strong);
  });

  test("small bodies, HEAD and errors under the threshold are sent as they are", async () => {
    const tags = await get("/api/tags", { "accept-encoding": "gzip" });
    expect(tags.res.headers.get("content-encoding")).toBeNull();
    expect(JSON.parse(new TextDecoder().decode(tags.bytes))).toEqual({ tags: ["x"] });
    expect(varyOf(tags.res.headers)).not.toContain("Accept-Encoding");
    const head = await get("/api/articles", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.res.status).toBe(200);
    expect(head.res.headers.get("content-encoding")).toBeNull();
    const missing = await get("/api/articles/no-such-article", { "accept-encoding": "gzip" });
    expect(missing.res.status).toBe(404);
    expect(missing.res.headers.get("content-encoding")).toBeNull();
  });

  test("a large write answer is compressed too, and the write happened once", async () => {
    const body = JSON.stringify({
      article: { title: "Long one", description: "d", body: "lorem ipsum ".repeat(200) },
    });
    const res = await t.app.handle(
      t.buildRequest("POST", "/api/articles", {
        token: user.token,
        body,
        headers: { "accept-encoding": "gzip" },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const article = JSON.parse(decode(new Uint8Array(await res.arrayBuffer()), "gzip")).article;
    expect(article.title).toBe("Long one");
    expect(await t.db.get("select count(*) as n from articles where title = 'Long one'")).toEqual({
      n: 1,
    });
  });

  test("server-sent events are never compressed", async () => {
    const res = await t.app.handle(
      t.buildRequest("GET", "/api/realtime/sse?topics=articles", { headers: { "accept-encoding": "gzip" } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    expect(res.headers.get("content-encoding")).toBeNull();
    await res.body?.cancel();
  });
});

describe("the Swagger UI bundle", () => {
  const path = "/openapi/assets/swagger-ui-bundle.js";

  test("brotli, gzip and identity variants carry the same bytes; the encoded ones are a quarter the size", async () => {
    const identity = await get(path, { "accept-encoding": "identity" });
    expect(identity.res.status).toBe(200);
    expect(identity.bytes.byteLength).toBeGreaterThan(1_000_000);
    const text = new TextDecoder().decode(identity.bytes);
    const strong = identity.res.headers.get("etag")!;
    expect(strong).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    for (const [accept, encoding] of [
      ["gzip, deflate, br", "br"],
      ["gzip", "gzip"],
    ] as const) {
      for (let i = 0; i < 2; i++) {
        const { res, bytes } = await get(path, { "accept-encoding": accept });
        expect(res.headers.get("content-encoding")).toBe(encoding);
        expect(bytes.byteLength).toBeLessThan(identity.bytes.byteLength / 3);
        expect(decode(bytes, encoding)).toBe(text);
        expect(res.headers.get("etag")).toBe(`W/${strong}`);
        expect(varyOf(res.headers)).toEqual(["Origin", "Accept-Encoding"]);
        expect(res.headers.get("cache-control")).toBe("public, max-age=86400");
      }
    }
    const revalidated = await get(path, { "accept-encoding": "br", "if-none-match": `W/${strong}` });
    expect(revalidated.res.status).toBe(304);
    expect(revalidated.bytes.byteLength).toBe(0);
  });
});

describe("negotiateEncoding", () => {
  test.each([
    [null, undefined],
    ["", undefined],
    ["gzip", "gzip"],
    ["GZIP", "gzip"],
    ["br, gzip", "gzip"],
    ["br;q=0.9, gzip;q=0.8", "br"],
    ["gzip;q=0", undefined],
    ["*", "gzip"],
    ["*;q=0, br", "br"],
    ["identity;q=0", undefined],
    ["gzip;q=bogus", undefined],
  ] as const)("%p → %p", (header, expected) => {
    expect(negotiateEncoding(header, ["gzip", "br"])).toBe(expected);
  });

  test("static assets prefer brotli when the client rates both equally", async () => {
    expect(negotiateEncoding("gzip, br", ["br", "gzip"])).toBe("br");
    expect(negotiateEncoding("gzip;q=1, br;q=0.5", ["br", "gzip"])).toBe("gzip");
  });
});

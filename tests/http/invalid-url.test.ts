/**
 * Requests whose URL cannot be parsed: an authority-form target (`CONNECT host:port`), a Host of `[::1`, an
 * empty Host, a port above 65535. Bun builds `request.url` from what the client sent, and `new URL()` throws on
 * these; hooks that parsed it answered 500 and the error handler threw again, dumping source to stderr. Each
 * must now be a 400 in the envelope with exactly one log line (the access line), over a real socket (raw TCP,
 * so the request line and Host are exactly as written) and in-process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createTestApp, type TestApp } from "../helpers/app.ts";

const INVALID = { errors: { request: ["has an invalid URL"] } };

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send bytes as written and read the response until the server closes (every request says close). */
function rawRequest(port: number, text: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let out = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      out += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", body = ""] = out.split("\r\n\r\n", 2);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
}

const get = (target: string, host: string | undefined, method = "GET") =>
  `${method} ${target} HTTP/1.1\r\n${host === undefined ? "" : `Host: ${host}\r\n`}Connection: close\r\n\r\n`;

describe("unparseable request URLs over a real socket", () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: "info" });
    t.app.listen({ port: 0, hostname: "127.0.0.1" });
    port = t.app.server!.port!;
  });
  afterAll(() => t.app.stop(true));

  test.each([
    ["CONNECT with an authority-form target", get("127.0.0.1:80", "127.0.0.1:80", "CONNECT")],
    ["a Host of [::1", get("/api/tags", "[::1")],
    ["an empty Host", get("/api/tags", "")],
    ["a port above 65535", get("/api/tags", "localhost:70000")],
    ["a Host with a space", get("/api/tags", "a b")],
    ["a Host with userinfo", get("/api/users/login", "user@host", "POST")],
    ["a write in maintenance-checked territory", get("/api/articles", "[::1", "POST")],
    ["the docs page", get("/openapi", "[::1")],
  ])("%s → 400 JSON envelope, one access line, no error logged", async (_name, text) => {
    const before = t.logs.length;
    const res = await rawRequest(port, text);
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(res.body)).toEqual(INVALID);
    // Security headers still apply to the refusal.
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    await Bun.sleep(20); // the access line is written after the response
    const lines = t.logs.slice(before).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: "request", status: 400, route: "(unmatched)" });
  });

  test("the same server still answers a well-formed request", async () => {
    const res = await rawRequest(port, get("/api/tags", `127.0.0.1:${port}`));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ tags: [] });
  });
});

/** A Request whose `url` is whatever Bun would have built from a hostile request line or Host. */
function rawUrlRequest(url: string, init: RequestInit): Request {
  const request = new Request("http://localhost/", init);
  Object.defineProperty(request, "url", { value: url });
  return request;
}

describe("unparseable request URLs in-process", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: "info" });
  });

  test.each([
    ["127.0.0.1:80", "CONNECT"],
    ["http://[::1/api/tags", "GET"],
    ["http://localhost:70000/api/tags", "GET"],
    ["/api/tags", "GET"],
    ["http://[::1/api/articles", "POST"],
    ["http://[::1/api/articles/x/comments", "DELETE"],
    ["http://[::1/api/users", "POST"],
  ])("%s (%s) → 400, nothing written, no error logged", async (url, method) => {
    const users = await t.db.get("select count(*) as n from users");
    const res = await t.app.handle(
      rawUrlRequest(url, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "GET" || method === "CONNECT" ? undefined : "{}",
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(INVALID);
    expect(await t.db.get("select count(*) as n from users")).toEqual(users);
    await Bun.sleep(5);
    expect(t.logs.filter((l) => JSON.parse(l).level >= 40)).toEqual([]);
  });
});

/**
 * The same-bytes floor: a bare `Bun.serve` whose fetch handler sends, from memory, the exact answers Quire
 * gave (status, headers and body, captured by bench/run.ts just before it measures). It does no work at all
 * beyond one Map lookup per request, so Quire/same-bytes is what Quire's whole request pipeline costs on top
 * of what Bun itself needs to receive a request and send those bytes: the physical limit of a cached read.
 *
 *   bun bench/raw.ts --answers <file.json> --port <n>
 *
 * The answers file is `[{ path, authorization?, status, headers: [[name, value], …], body }]`. A request is
 * looked up by its path (with the query) and its Authorization header. Every header Quire sent is replayed
 * (security headers, ETag, Vary, Cache-Control, even its X-Request-Id), except Date and Content-Length, which
 * Bun writes itself, so both servers put the same bytes on the wire. A JavaScript handler runs per request,
 * as in Quire (Bun's `static` routes answer without entering JavaScript: not a floor Quire could reach).
 */
import { parseArgs } from "node:util";

export interface Answer {
  path: string;
  authorization?: string;
  status: number;
  headers: [string, string][];
  body: string;
}

export const answerKey = (path: string, authorization: string | null | undefined) =>
  authorization ? `${path}\n${authorization}` : path;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { answers: { type: "string" }, port: { type: "string" } },
  });
  if (!values.answers || !values.port) throw new Error("usage: --answers <file.json> --port <n>");
  const answers = (await Bun.file(values.answers).json()) as Answer[];

  // Bodies as bytes and headers as a ready Headers object: nothing is encoded or copied per request but what
  // `new Response` itself does.
  const byKey = new Map<string, { body: Uint8Array; init: ResponseInit }>();
  for (const a of answers) {
    const headers = new Headers(a.headers.filter(([n]) => n !== "date" && n !== "content-length"));
    byKey.set(answerKey(a.path, a.authorization), {
      body: new TextEncoder().encode(a.body),
      init: { status: a.status, headers },
    });
  }
  const notFound = {
    body: new TextEncoder().encode('{"errors":{"path":["not found"]}}'),
    init: { status: 404 },
  };

  const server = Bun.serve({
    port: Number(values.port),
    hostname: "127.0.0.1",
    fetch(req) {
      const url = req.url;
      const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
      const a = byKey.get(answerKey(path, req.headers.get("authorization"))) ?? notFound;
      return new Response(a.body, a.init);
    },
  });
  console.log(`same-bytes server listening on ${server.port} with ${byKey.size} answers`);
  process.on("SIGTERM", () => {
    void server.stop(true);
    process.exit(0);
  });
}

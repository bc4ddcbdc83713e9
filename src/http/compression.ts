/**
 * Response compression by Accept-Encoding. The model:
 * - Negotiation (negotiator) honours the client's q-values, `q=0` and `*`; among codings it rates equally,
 *   answers take gzip first (libdeflate at level 1 costs about half of brotli's fastest setting, for ~20 %
 *   more bytes), static assets brotli (compressed once, so the better ratio is free).
 * - Compressed: bodies of at least MIN_COMPRESS_BYTES with a textual type (JSON, text, JavaScript, CSS, HTML,
 *   SVG, XML). Never: server-sent events (each event must reach the client at once), HEAD, 204/206/304,
 *   bodies already encoded, `Cache-Control: no-transform`.
 * - A compressed answer carries `Content-Encoding`, `Vary: Accept-Encoding` and a weak ETag (`W/"…"`): the
 *   encoded bytes differ from the identity ones, so a strong validator may not be shared (RFC 9110 §8.8.1),
 *   while If-None-Match compares weakly, so a client holding either variant still gets its 304. A 304 answered
 *   to a client that holds the weak form names that form.
 * - Static assets (the 1.7 MB Swagger UI bundle) are read and compressed once, off the event loop, at their
 *   first request, and served from memory after that (src/http/static-asset.ts).
 *
 * Hand-written around Bun's zlib: elysia-compress, the Elysia plugin that exists, ignores q-values, skips
 * Response objects (our cached bodies and assets), compresses event streams and keeps strong ETags.
 */
import { promisify } from "node:util";
import type * as Zlib from "node:zlib";
import { Elysia } from "elysia";
import Negotiator from "negotiator";
import { stateOf } from "./request-state.ts";
import { varyWith } from "./vary.ts";

export type Encoding = "br" | "gzip";

/** Below this, the gzip header and the CPU cost outweigh the bytes saved. */
export const MIN_COMPRESS_BYTES = 1024;

const DYNAMIC: Encoding[] = ["gzip", "br"];
export const STATIC: Encoding[] = ["br", "gzip"];

const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)|application\/(?:[\w.-]+\+)?(?:json|xml|javascript)|image\/svg\+xml)/i;

/**
 * The coding to answer with, or undefined for identity. `preferred` breaks ties between codings the client
 * rates equally; a coding it rates higher always wins, and one at q=0 is never used.
 */
export function negotiateEncoding(
  acceptEncoding: string | null,
  preferred: Encoding[],
): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const available = [...preferred, "identity"];
  const chosen = new Negotiator({ headers: { "accept-encoding": acceptEncoding } }).encoding(available, {
    preferred: available,
  });
  return chosen === "br" || chosen === "gzip" ? chosen : undefined;
}

/**
 * The coding for dynamic answers by Accept-Encoding value. Browsers send one of a handful of values, so each
 * is negotiated once (a pure function's memo, bounded) instead of parsed by Negotiator on every request.
 */
const dynamicChoices = new Map<string, Encoding | undefined>();
function dynamicEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  if (dynamicChoices.has(acceptEncoding)) return dynamicChoices.get(acceptEncoding);
  const chosen = negotiateEncoding(acceptEncoding, DYNAMIC);
  if (dynamicChoices.size >= 64) dynamicChoices.clear();
  dynamicChoices.set(acceptEncoding, chosen);
  return chosen;
}

/**
 * node:zlib, loaded at the first brotli answer or static asset: evaluating it (and the node:stream it
 * builds on) took ~60 ms of a server's start-up, and gzip of dynamic bodies is Bun's own (Bun.gzipSync).
 */
let zlib: typeof Zlib | undefined;
const zlibModule = (): typeof Zlib => {
  zlib ??= require("node:zlib") as typeof Zlib;
  return zlib;
};

/**
 * Dynamic bodies: the fastest settings (nginx's default gzip level is 1 too). On an 8.6 KB list page gzip 1
 * takes ~60-80 µs for 2.7 KB, level 6 ~200 µs for 2.0 KB, brotli 4 ~350 µs for 1.9 KB; a request itself costs
 * ~200 µs. The bytes saved past level 1 are not worth the CPU (bench/compression.ts).
 */
function compressNow(bytes: Uint8Array<ArrayBuffer>, encoding: Encoding): Uint8Array {
  if (encoding === "gzip") return Bun.gzipSync(bytes, { level: 1 });
  const { brotliCompressSync, constants } = zlibModule();
  return brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 1,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  });
}

/** Static assets: strong settings, in zlib's thread pool (brotli 9 on the Swagger bundle takes ~0.4 s). */
export function compressOnce(bytes: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
  const { brotliCompress, constants, gzip } = zlibModule();
  if (encoding === "gzip") return promisify(gzip)(bytes, { level: 9 });
  return promisify(brotliCompress)(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 9,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  });
}

export const weak = (etag: string) => (etag.startsWith("W/") ? etag : `W/${etag}`);

function worthCompressing(request: Request, res: Response): boolean {
  if (request.method === "HEAD" || res.body === null) return false;
  if (res.status < 200 || res.status === 204 || res.status === 206) return false;
  const h = res.headers;
  if (h.has("content-encoding") || h.has("content-range")) return false;
  if (/\bno-transform\b/i.test(h.get("cache-control") ?? "")) return false;
  return COMPRESSIBLE.test(h.get("content-type") ?? "");
}

/** A 304 to a client holding the compressed variant names that variant's (weak) validator. */
function matchHeldVariant(request: Request, res: Response): Response {
  const etag = res.headers.get("etag");
  const held = request.headers.get("if-none-match");
  if (!etag || etag.startsWith("W/") || !held || !held.includes(weak(etag))) return res;
  res.headers.set("etag", weak(etag));
  res.headers.set("vary", varyWith(res.headers.get("vary"), "Accept-Encoding"));
  return res;
}

async function encodeBody(res: Response, encoding: Encoding): Promise<Response> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  // The app built this Response, so its headers are ours to change (a fetched one's would be immutable).
  const { headers } = res;
  const init = { status: res.status, statusText: res.statusText, headers };
  if (bytes.byteLength < MIN_COMPRESS_BYTES) return new Response(bytes, init);
  headers.set("content-encoding", encoding);
  headers.delete("content-length");
  headers.set("vary", varyWith(headers.get("vary"), "Accept-Encoding"));
  const etag = headers.get("etag");
  if (etag) headers.set("etag", weak(etag));
  return new Response(compressNow(bytes, encoding), init);
}

/**
 * The Response for a JSON (or other text) body whose text is at hand: compressed here when worth it, without
 * reading a body back. The GET paths use this (src/http/etag.ts); `headers` are all the answer's headers.
 */
export function textResponse(request: Request, headers: Record<string, string>, text: string): Response {
  const state = stateOf(request);
  if (state) state.settled = true;
  // Characters ≤ bytes (UTF-8), so a string shorter than the threshold is certainly too small.
  const encoding =
    text.length >= MIN_COMPRESS_BYTES && request.method !== "HEAD"
      ? dynamicEncoding(request.headers.get("accept-encoding"))
      : undefined;
  if (!encoding) return new Response(text, { headers });
  headers["content-encoding"] = encoding;
  headers.vary = varyWith(headers.vary, "Accept-Encoding");
  if (headers.etag) headers.etag = weak(headers.etag);
  return new Response(compressNow(new TextEncoder().encode(text), encoding), { headers });
}

/** Compress a finished response for this request when it is worth it; otherwise hand it back as it is. */
export function compressResponse(request: Request, res: unknown): unknown {
  if (!(res instanceof Response)) return res; // a WebSocket upgrade answers nothing
  if (stateOf(request)?.settled) return res;
  if (res.status === 304) return matchHeldVariant(request, res);
  if (!worthCompressing(request, res)) return res;
  const encoding = dynamicEncoding(request.headers.get("accept-encoding"));
  return encoding ? encodeBody(res, encoding) : res;
}

/**
 * Every response of the app passes through compressResponse, after every hook has had its say (headers,
 * ETag, 304). `wrap` is Elysia's hook around the whole fetch handler (the OpenTelemetry plugin uses it too).
 */
export const compressionPlugin = () =>
  new Elysia({ name: "quire/compression" }).wrap((fn, request) => () => {
    const res = (fn as (request: Request) => unknown)(request);
    return res instanceof Promise
      ? res.then((r) => compressResponse(request, r))
      : compressResponse(request, res);
  });

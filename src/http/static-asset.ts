/**
 * Files embedded in the binary (the Swagger UI bundle and stylesheet) served from memory with a strong ETag
 * and their brotli and gzip variants, each built once, off the event loop, by the first request that asks for
 * it: the 1.7 MB bundle is 0.39 MB as brotli. See src/http/compression.ts for the negotiation.
 */
import { compressOnce, type Encoding, negotiateEncoding, STATIC, weak } from "./compression.ts";
import { matchesIfNoneMatch } from "./etag.ts";
import { addVary } from "./vary.ts";

/** A route handler serving the file at `path` (read at the first request) as `type`. */
export function staticAsset(path: string, type: string, cacheControl = "public, max-age=86400") {
  let file: Promise<{ bytes: Uint8Array; etag: string }> | undefined;
  const variants = new Map<Encoding, Promise<Uint8Array>>();
  const variant = (bytes: Uint8Array, encoding: Encoding) => {
    let v = variants.get(encoding);
    if (!v) {
      v = compressOnce(bytes, encoding);
      v.catch(() => variants.delete(encoding)); // try again next time rather than cache a failure
      variants.set(encoding, v);
    }
    return v;
  };
  return async ({ request, set }: { request: Request; set: { headers: Record<string, unknown> } }) => {
    file ??= Bun.file(path)
      .bytes()
      .then((bytes) => ({
        bytes,
        etag: `"${bytes.byteLength.toString(36)}-${Bun.hash(bytes).toString(36)}"`,
      }));
    const { bytes, etag } = await file;
    const encoding = negotiateEncoding(request.headers.get("accept-encoding"), STATIC);
    // Through the pending headers, so a Vary: Origin set by CORS is kept (a Response's own headers win).
    addVary(set.headers, "Accept-Encoding");
    const headers: Record<string, string> = {
      "content-type": type,
      "cache-control": cacheControl,
      etag: encoding ? weak(etag) : etag,
    };
    if (matchesIfNoneMatch(request.headers.get("if-none-match"), etag))
      return new Response(null, { status: 304, headers });
    if (!encoding) return new Response(bytes, { headers });
    headers["content-encoding"] = encoding;
    return new Response(await variant(bytes, encoding), { headers });
  };
}

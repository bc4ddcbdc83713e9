/**
 * Reads a request body as text with a hard byte limit, whether or not the client declared a length:
 * a chunked upload that runs past the limit is cut off as soon as it does, not buffered whole.
 */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

export async function readBoundedText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) throw new BodyTooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

/**
 * Whether JSON text nests objects/arrays deeper than `max`, by one pass over the characters (strings
 * skipped). Checked before parsing: a 200 KB body of brackets parses fine but then overflows the stack of
 * whatever walks it (validation, error reporting), costing seconds of CPU and a 500.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Members every object inherits: `toString`, `valueOf`, `constructor`, `__proto__`, `hasOwnProperty`, … */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The first key in parsed JSON that shadows a member every object inherits, or undefined. `{"toString": 1}`
 * is valid JSON, but code that turns such an object into a string (a template literal in a validation
 * message, a log line) throws a TypeError instead; `__proto__` and `constructor` are how prototype poisoning
 * gets in. Walked iteratively (depth is already bounded by jsonNestsDeeperThan).
 */
export function inheritedKeyIn(value: unknown): string | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const item of v) pending.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (INHERITED.has(key)) return key;
      pending.push((v as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/**
 * The field (the nearest object key) of the first string holding a NUL character, "body" for a key holding
 * one, or undefined: no field of the API takes a NUL, and Postgres refuses it in text. `text` is the raw body,
 * so that bodies without one cost a substring search.
 */
export function nulFieldIn(text: string, value: unknown): string | undefined {
  // JSON cannot carry a raw NUL (JSON.parse refuses control characters): only the \u0000 escape can.
  if (!text.includes("\\u0000")) return undefined;
  const pending: [unknown, string][] = [[value, "body"]];
  while (pending.length > 0) {
    const [v, field] = pending.pop()!;
    if (typeof v === "string") {
      if (v.includes("\0")) return field;
    } else if (Array.isArray(v)) {
      for (const item of v) pending.push([item, field]);
    } else if (v !== null && typeof v === "object") {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes("\0")) return "body";
        pending.push([item, key]);
      }
    }
  }
  return undefined;
}

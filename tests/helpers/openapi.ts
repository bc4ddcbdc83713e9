/** Walking the OpenAPI document in tests: its operations, and `$ref`s resolved within the document. */

// biome-ignore lint/suspicious/noExplicitAny: the document is inspected freely
export type Doc = any;
// biome-ignore lint/suspicious/noExplicitAny: parts of the document are inspected freely
export type Node = any;

export interface Operation {
  path: string;
  method: string;
  op: Node;
  /** `{slug}` → `:slug`, as Elysia's route table spells it. */
  route: string;
}

export const WRITES = new Set(["post", "put", "patch", "delete"]);

export function operations(doc: Doc): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Node>>))
    for (const [method, op] of Object.entries(methods))
      out.push({ path, method, op, route: path.replace(/\{([^}]+)\}/g, ":$1") });
  return out;
}

/** Follow `$ref`s (local ones only: the document has no other kind). */
export function resolve(doc: Doc, node: Node): Node {
  let current = node;
  for (let hops = 0; current && typeof current.$ref === "string"; hops++) {
    if (hops > 10) throw new Error(`$ref loop at ${node.$ref}`);
    const ref: string = current.$ref;
    if (!ref.startsWith("#/")) throw new Error(`non-local $ref ${ref}`);
    current = ref
      .slice(2)
      .split("/")
      .reduce((at: Node, key) => at?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
    if (current === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  return current;
}

/** A response of an operation, resolved. */
export const responseOf = (doc: Doc, op: Node, status: number | string): Node =>
  op.responses?.[String(status)] === undefined ? undefined : resolve(doc, op.responses[String(status)]);

/** Every example value of a media type (`example`, or each entry of `examples`, resolved). */
export function examplesOf(doc: Doc, media: Node): unknown[] {
  if (media.example !== undefined) return [media.example];
  return Object.values(media.examples ?? {}).map((e) => resolve(doc, e).value);
}

/** Every `$ref` string anywhere under `node`. */
export function refsIn(node: Node, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  return out;
}

/** A concrete path for a route template, from the values given per parameter name. */
export function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? "1"));
}

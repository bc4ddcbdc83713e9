/**
 * The OpenAPI 3.1 document, built from the route table (src/http/openapi.ts builds it on first request).
 *
 * What every route of a kind answers is derived from the route itself, so no route can forget it:
 * - 429 on every operation: the per-IP limit counts every request (src/http/rate-limit.ts);
 * - 503 on every write: the database was busy (src/http/errors.ts), plus maintenance mode unless the path
 *   stays writable during it (src/http/maintenance.ts);
 * - 304, `ETag` and `If-None-Match` on GETs that answer a JSON object (src/http/etag.ts);
 * - 401 where `detail.security` takes a token, 403 where it names the admin role (src/http/auth.ts);
 * - 413, 415 and a malformed-JSON 422 where there is a body (src/http/body.ts); a 422 naming the field
 *   where path or query parameters are validated (src/http/errors.ts words the message).
 * Each route adds its own answers (404, 409, a domain 403 or 422) to its `response` map with `errorDoc`,
 * and examples ride on its schemas (`examples`). Error examples are kept once in `components.examples`.
 */
import type { ErrorFields } from "../errors.ts";
import { docMeta } from "./docs.ts";
import { stillWritable } from "./maintenance.ts";
import { type Json, SchemaConverter } from "./openapi-schemas.ts";
import { headerComponents, ifNoneMatch, type Part, standardParts } from "./openapi-standard.ts";

export interface RouteLike {
  method: string;
  path: string;
  hooks?: {
    body?: unknown;
    query?: unknown;
    params?: unknown;
    response?: unknown;
    detail?: unknown;
  };
}

interface Detail {
  hide?: boolean;
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  security?: Record<string, string[]>[];
  /** Parameters a handler reads itself (the realtime endpoints parse their own URL). */
  parameters?: Json[];
}

export interface DocumentOptions {
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  securitySchemes: Json;
  /** BODY_LIMIT_BYTES, quoted in the 413 example. */
  bodyLimitBytes: number;
}

const WRITES = new Set(["post", "put", "patch", "delete"]);
const METHODS = new Set(["get", ...WRITES]);
const SUCCESS_TEXT: Record<string, string> = {
  "101": "Switching Protocols",
  "200": "OK",
  "201": "Created",
  "204": "No content",
};

const JSON_TYPE = "application/json";
const INVALID = "Invalid input: the offending field is named (the submitted value is never echoed)";
const envelopeRef = { $ref: "#/components/schemas/ErrorEnvelope" };

const isErrorBody = (v: unknown): v is { errors: ErrorFields } =>
  v !== null && typeof v === "object" && "errors" in v;

/** `{"token": ["is missing"]}` → key `token-is-missing`, summary `token is missing`. */
function exampleName(fields: ErrorFields): { key: string; summary: string } {
  const summary = Object.entries(fields)
    .map(([field, messages]) => `${field} ${messages.join(", ")}`)
    .join("; ");
  // Keys stay short (the summary says it all): at most 32 characters, cut at a word.
  const words = summary.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let key = words[0] ?? "error";
  for (const word of words.slice(1)) {
    if (key.length + word.length + 1 > 32) break;
    key += `-${word}`;
  }
  return { key, summary };
}

function operationId(method: string, path: string): string {
  const words = path
    .split("/")
    .filter(Boolean)
    .map((segment) => (segment.startsWith(":") ? `By-${segment.slice(1)}` : segment));
  return (
    method +
    words
      .join("-")
      .split(/[^A-Za-z0-9]+/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join("")
  );
}

class DocumentBuilder {
  readonly schemas = new SchemaConverter();
  readonly examples: Record<string, Json> = {};
  readonly standard: ReturnType<typeof standardParts>;

  constructor(readonly options: DocumentOptions) {
    this.standard = standardParts(options.bodyLimitBytes);
  }

  /** An error body's entry in components.examples (one per distinct body), by name. */
  exampleName(body: { errors: ErrorFields }): string {
    const { key, summary } = exampleName(body.errors);
    let name = key;
    const taken = (n: string) =>
      n in this.examples && JSON.stringify(this.examples[n]?.value) !== JSON.stringify(body);
    for (let n = 2; taken(name); n++) name = `${key}-${n}`;
    this.examples[name] = { summary, value: body };
    return name;
  }

  /** A media type object with its examples: error bodies by reference, anything else inline. */
  media(schema: Json, values: unknown[]): Json {
    if (values.length === 0) return { schema };
    if (values.every(isErrorBody)) {
      const examples: Json = {};
      for (const value of values) {
        const name = this.exampleName(value);
        examples[name] = { $ref: `#/components/examples/${name}` };
      }
      return { schema, examples };
    }
    if (values.length === 1) return { schema, example: values[0] };
    return {
      schema,
      examples: Object.fromEntries(values.map((value, i) => [`example-${i + 1}`, { value }])),
    };
  }

  /** The parts of one status as a response object: a lone standard part by reference. */
  response(parts: Part[]): Json {
    if (parts.length === 1 && parts[0]!.ref) return { $ref: `#/components/responses/${parts[0]!.ref}` };
    const own = parts.filter((p) => !p.standard);
    const described = own.length > 0 ? own : parts;
    const out: Json = { description: [...new Set(described.map((p) => p.description))].join(". ") };
    const headers = [...new Set(parts.flatMap((p) => p.headers ?? []))];
    if (headers.length > 0)
      out.headers = Object.fromEntries(headers.map((h) => [h, { $ref: `#/components/headers/${h}` }]));
    const bodied = parts.filter((p) => p.schema || p.examples.length > 0);
    if (bodied.length === 0) return out;
    const schemas = new Map(bodied.map((p) => p.schema ?? envelopeRef).map((s) => [JSON.stringify(s), s]));
    const schema = schemas.size === 1 ? [...schemas.values()][0]! : { oneOf: [...schemas.values()] };
    const type = bodied.find((p) => p.contentType)?.contentType ?? JSON_TYPE;
    out.content = {
      [type]: this.media(
        schema,
        bodied.flatMap((p) => p.examples),
      ),
    };
    return out;
  }

  /** A schema from a `response` map or a body: its JSON Schema, and its examples lifted out. */
  schemaPart(schema: unknown): { schema: Json; examples: unknown[]; description?: string; void: boolean } {
    const source = schema as Json;
    const converted = this.schemas.convert(schema);
    const examples = Array.isArray(source.examples) ? source.examples : [];
    const description = typeof source.description === "string" ? source.description : undefined;
    delete converted.examples;
    if (!("$ref" in converted)) delete converted.description;
    return { schema: converted, examples, description, void: source.type === "void" };
  }

  /** A 422 example for the first constrained parameter, worded as src/http/errors.ts words it. */
  parameterExample(schema: unknown): ErrorFields | undefined {
    const properties = (schema as Json | undefined)?.properties as Record<string, Json> | undefined;
    for (const [name, p] of Object.entries(properties ?? {})) {
      if (p.pattern || p.format || p.anyOf || p.const !== undefined) return { [name]: ["is invalid"] };
      if (typeof p.maxLength === "number")
        return { [name]: [`is too long (maximum is ${p.maxLength} characters)`] };
    }
    return undefined;
  }

  parameters(route: RouteLike, detail: Detail, cacheable: boolean): Json[] {
    const out: Json[] = [];
    const hooks = route.hooks ?? {};
    for (const [location, schema] of [
      ["path", hooks.params],
      ["query", hooks.query],
    ] as const) {
      const object = schema as Json | undefined;
      const properties = (object?.properties ?? {}) as Json;
      const required = (object?.required ?? []) as string[];
      for (const [name, property] of Object.entries(properties)) {
        const converted = this.schemas.convert(property);
        const { description, ...rest } = converted;
        out.push({
          name,
          in: location,
          required: location === "path" || required.includes(name),
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    for (const match of route.path.matchAll(/:([^/]+)/g)) {
      if (!out.some((p) => p.in === "path" && p.name === match[1]))
        out.push({ name: match[1], in: "path", required: true, schema: { type: "string" } });
    }
    out.push(...(detail.parameters ?? []));
    if (cacheable) out.push({ $ref: "#/components/parameters/If-None-Match" });
    return out;
  }

  operation(route: RouteLike): Json {
    const method = route.method.toLowerCase();
    const hooks = route.hooks ?? {};
    const detail = (hooks.detail ?? {}) as Detail;
    const std = this.standard;
    const parts = new Map<string, Part[]>();
    const add = (status: number | string, part: Part) => {
      const key = String(status);
      parts.set(key, [...(parts.get(key) ?? []), part]);
    };
    const standard = (name: keyof typeof std) => {
      const part: Part & { status: number } = std[name];
      add(part.status, { ...part, standard: true, ref: name });
    };

    const responses: Json = {};
    const declared = (hooks.response ?? {}) as Record<string, unknown>;
    let cacheable = false;
    for (const [status, schema] of Object.entries(declared)) {
      const part = this.schemaPart(schema);
      const type = docMeta(schema)?.contentType;
      if (Number(status) >= 400) {
        add(status, {
          description: part.description ?? "Error",
          examples: part.examples,
          schema: part.schema,
          ...(type ? { contentType: type } : {}),
        });
        continue;
      }
      const json = !part.void && !type;
      cacheable ||= method === "get" && status === "200" && json;
      const response: Json = { description: part.description ?? SUCCESS_TEXT[status] ?? "Success" };
      if (method === "get" && status === "200" && json)
        response.headers = { ETag: { $ref: "#/components/headers/ETag" } };
      const own = docMeta(schema)?.headers;
      if (own) response.headers = { ...(response.headers as Json | undefined), ...own };
      if (!part.void) response.content = { [type ?? JSON_TYPE]: this.media(part.schema, part.examples) };
      responses[status] = response;
    }

    const security = detail.security ?? [];
    const token = security.filter((r) => r.Token);
    if (token.length > 0)
      standard(security.some((r) => Object.keys(r).length === 0) ? "InvalidToken" : "Unauthorized");
    if (token.some((r) => r.Token?.includes("admin"))) standard("NotAdmin");
    if (hooks.body) {
      standard("PayloadTooLarge");
      standard("UnsupportedMediaType");
      add(422, {
        description: INVALID,
        standard: true,
        examples: [{ errors: { body: ["is not valid JSON"] } }],
      });
    }
    const parameterErrors = [hooks.params, hooks.query]
      .map((s) => this.parameterExample(s))
      .filter((e): e is ErrorFields => e !== undefined);
    if (parameterErrors.length > 0)
      add(422, {
        description: INVALID,
        standard: true,
        examples: parameterErrors.map((errors) => ({ errors })),
      });
    standard("TooManyRequests");
    if (WRITES.has(method)) standard(stillWritable.test(route.path) ? "DatabaseBusy" : "Unavailable");
    if (cacheable) standard("NotModified");

    for (const [status, list] of parts) responses[status] = this.response(list);

    const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
    const parameters = this.parameters(route, detail, cacheable);
    const op: Json = {
      tags: detail.tags,
      summary: detail.summary,
      description: detail.description,
      operationId: detail.operationId ?? operationId(method, route.path),
    };
    if (security.length > 0) op.security = security;
    if (parameters.length > 0) op.parameters = parameters;
    if (hooks.body) {
      const body = this.schemaPart(hooks.body);
      op.requestBody = {
        ...(body.description ? { description: body.description } : {}),
        required: true,
        content: { [JSON_TYPE]: this.media(body.schema, body.examples) },
      };
    }
    op.responses = sorted;
    return op;
  }

  document(routes: RouteLike[]): Json {
    const paths: Record<string, Json> = {};
    for (const route of routes) {
      const method = route.method.toLowerCase();
      const detail = (route.hooks?.detail ?? {}) as Detail;
      if (detail.hide || !METHODS.has(method)) continue;
      const path = route.path.replace(/:([^/]+)/g, "{$1}");
      paths[path] = { ...paths[path], [method]: this.operation(route) };
    }
    const responses = Object.fromEntries(
      Object.entries(this.standard).map(([name, part]) => [
        name,
        this.response([{ ...part, ref: undefined }]),
      ]),
    );
    return {
      openapi: "3.1.1",
      info: this.options.info,
      tags: this.options.tags,
      paths,
      components: {
        schemas: this.schemas.components,
        responses,
        parameters: { "If-None-Match": ifNoneMatch },
        headers: headerComponents,
        examples: this.examples,
        securitySchemes: this.options.securitySchemes,
      },
    };
  }
}

/** The whole document for these routes. Pure: the same routes give the same document. */
export function buildOpenApiDocument(routes: RouteLike[], options: DocumentOptions): Json {
  return new DocumentBuilder(options).document(routes);
}

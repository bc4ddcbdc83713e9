/**
 * Documentation metadata on route schemas, read by the OpenAPI builder (src/http/openapi-document.ts) and
 * invisible to validation: it sits under a symbol key, which TypeBox, Elysia and JSON.stringify all ignore,
 * so no request or response changes because of it. A spread copy (`{ ...ErrorEnvelope, description }`,
 * `t.Optional(x)`) carries the metadata along, which is what we want: a copy is still that component.
 */
import type { TSchema } from "elysia";

const DOC = Symbol.for("quire.openapi");

export interface DocMeta {
  /** Documented once under `components.schemas.<component>` and referenced everywhere else. */
  component?: string;
  /** The schema `component()` named: copies of it carry this meta and document as a reference to it. */
  canonical?: TSchema;
  /** JSON Schema shown in the document in place of the schema (a query string that carries an integer). */
  documentAs?: Record<string, unknown>;
  /**
   * The media type of a body that is not JSON (`text/plain`, `text/event-stream`), or of JSON that is not
   * serialized from the schema (a streamed download: no ETag, no 304).
   */
  contentType?: string;
  /** Headers a success answer carries (OpenAPI header objects by name), e.g. `Content-Disposition`. */
  headers?: Record<string, Record<string, unknown>>;
}

export function docMeta(schema: unknown): DocMeta | undefined {
  return schema !== null && typeof schema === "object" ? (schema as { [DOC]?: DocMeta })[DOC] : undefined;
}

/** Attach documentation metadata to a schema (returned as is, for chaining in model files). */
export function documented<T extends TSchema>(schema: T, meta: DocMeta): T {
  (schema as { [DOC]?: DocMeta })[DOC] = { ...docMeta(schema), ...meta };
  return schema;
}

/** A schema documented once, as `#/components/schemas/<name>`. */
export const component = <T extends TSchema>(name: string, schema: T): T =>
  documented(schema, { component: name, canonical: schema });

/**
 * Security requirements, as routes declare them in `detail.security`; they must match the route's macro
 * (`auth`, `optionalAuth`, `admin`): tests/http/openapi-truth.test.ts checks each against the server.
 * `admin` is a role name, which OpenAPI 3.1 allows for apiKey schemes.
 */
export const security: Record<"required" | "optional" | "admin", Record<string, string[]>[]> = {
  /** `{ auth: true }`: 401 without a valid token. */
  required: [{ Token: [] }],
  /** `{ optionalAuth: true }`: anonymous is fine, but a token that is sent must be valid. */
  optional: [{}, { Token: [] }],
  /** `{ admin: true }`: 401 without a valid token, 403 unless the account is an admin. */
  admin: [{ Token: ["admin"] }],
};

/** The same schema with this route's own examples (its answer differs from the usual one). */
export const withExamples = <T extends TSchema>(schema: T, ...examples: unknown[]): T => ({
  ...schema,
  examples,
});

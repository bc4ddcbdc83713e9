/**
 * Route schemas (TypeBox, as Elysia validates them) to OpenAPI 3.1 schemas, with shared components.
 *
 * Hand-written rather than @elysiajs/openapi's converter, which inlines every schema (no components), drops
 * `description` from literal unions, types a nullable enum without `null`, and documents Elysia's coercing
 * `t.Integer` as "string or integer". TypeBox schemas already are JSON Schema, so the work is small:
 * - a schema marked `component(name, …)` (src/http/docs.ts) becomes `$ref` and is emitted once;
 * - `documentAs` replaces a schema (query strings that carry integers);
 * - Elysia's coercing numbers (a transform of "numeric string | number") become the number they encode;
 * - literal unions become `enum`, `Nullable(x)` becomes `type: [x, "null"]`, and `Record(String, x)`
 *   becomes `additionalProperties: x`.
 */
import { TransformKind } from "@sinclair/typebox";
import { docMeta } from "./docs.ts";

export type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** TypeBox's pattern for `Record(String, x)`. */
const ANY_KEY = "^(.*)$";

export class SchemaConverter {
  /** `components.schemas`, filled as components are met. */
  readonly components: Record<string, Json> = {};
  readonly #canonical = new Map<string, unknown>();

  /**
   * A route's schema as JSON Schema. At the root a component stays a bare `$ref` (the response or
   * parameter around it carries the description); nested, a copy whose description differs keeps its own.
   */
  convert(schema: unknown): Json {
    return this.#walk(schema, true);
  }

  #walk(schema: unknown, root = false, self?: unknown): Json {
    if (!isObject(schema)) return {};
    const meta = docMeta(schema);
    if (meta?.documentAs) return { ...meta.documentAs };
    if (meta?.component && meta.canonical !== self)
      return this.#ref(meta.component, meta.canonical as Json, schema, root);
    const anyOf = schema.anyOf as unknown[] | undefined;
    if (TransformKind in schema && anyOf?.length === 2) {
      const [text, number] = anyOf as Json[];
      if (text?.type === "string" && (number?.type === "integer" || number?.type === "number"))
        return this.#walk(number);
    }
    if (anyOf) return this.#union(schema, anyOf);
    const out: Json = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key === "nullable") continue; // OpenAPI 3.0's keyword, added by Elysia's t.Nullable
      if (key === "properties" && isObject(value)) out.properties = this.#map(value);
      else if (key === "patternProperties" && isObject(value) && Object.keys(value).join() === ANY_KEY)
        out.additionalProperties = this.#walk(value[ANY_KEY]);
      else if (key === "patternProperties" && isObject(value)) out.patternProperties = this.#map(value);
      else if ((key === "items" || key === "additionalProperties" || key === "not") && isObject(value))
        out[key] = this.#walk(value);
      else if ((key === "allOf" || key === "oneOf") && Array.isArray(value))
        out[key] = value.map((v) => this.#walk(v));
      else out[key] = value;
    }
    return out;
  }

  #map(properties: Json): Json {
    return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, this.#walk(v)]));
  }

  #union(schema: Json, anyOf: unknown[]): Json {
    const { anyOf: _, nullable: __, ...rest } = schema;
    const members = anyOf.map((m) => this.#walk(m));
    const nonNull = members.filter((m) => m.type !== "null");
    const nullable = nonNull.length < members.length;
    const consts = nonNull.every((m) => "const" in m) ? nonNull.map((m) => m.const) : undefined;
    if (consts) {
      const type = [...new Set(consts.map((c) => typeof c))];
      return {
        ...rest,
        type: nullable ? [...type, "null"] : type.length === 1 ? type[0] : type,
        enum: nullable ? [...consts, null] : consts,
      };
    }
    const [only] = nonNull;
    if (nullable && nonNull.length === 1 && typeof only?.type === "string" && !("$ref" in only))
      return { ...only, ...rest, type: [only.type, "null"] };
    return { ...rest, anyOf: members };
  }

  #ref(name: string, canonical: Json, schema: Json, root: boolean): Json {
    const known = this.#canonical.get(name);
    if (known === undefined) {
      this.#canonical.set(name, canonical);
      this.components[name] = {}; // placeholder: a component that contains itself stops here
      this.components[name] = this.#walk(canonical, false, canonical);
    } else if (known !== canonical) {
      throw new Error(`OpenAPI: two different schemas are both named component "${name}"`);
    }
    const ref = { $ref: `#/components/schemas/${name}` };
    const own = schema.description;
    return !root && typeof own === "string" && own !== canonical.description
      ? { ...ref, description: own }
      : ref;
  }
}

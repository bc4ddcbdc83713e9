/**
 * The one place errors become responses. Everything leaves in the RealWorld envelope
 * `{"errors": {"<field>": ["<message>"]}}`; nothing a client sent (a password, say) and no internal message
 * is ever echoed. Unknown errors are logged with the request id and answered with a generic 500.
 */
import { ValueErrorType } from "@sinclair/typebox/errors";
import { Elysia, type ValidationError } from "elysia";
import { AppError, authChallenge, type ErrorFields } from "../errors.ts";
import type { Logger } from "../lib/logger.ts";
import { MissingReference, StoreUnavailable } from "../store/errors.ts";
import { requestInfo } from "./request-log.ts";
import { requestPath } from "./url.ts";

/** The field a validation error is about: the last named segment of its JSON pointer. */
function fieldOf(path: string, fallback: string): string {
  const parts = path.split("/").filter((p) => p !== "" && !/^\d+$/.test(p));
  return parts.at(-1) ?? fallback;
}

interface SchemaError {
  type: number;
  value: unknown;
  schema: { minLength?: number; maxLength?: number; maxItems?: number; description?: string };
}

function messageOf(e: SchemaError) {
  if (e.value === undefined || e.value === null) return "can't be blank";
  if (typeof e.value === "string" && e.value.trim() === "") return "can't be blank";
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return "can't be blank";
    case ValueErrorType.StringMinLength:
      return e.schema.minLength === 1
        ? "can't be blank"
        : `is too short (minimum is ${e.schema.minLength} characters)`;
    case ValueErrorType.StringMaxLength:
      return `is too long (maximum is ${e.schema.maxLength} characters)`;
    case ValueErrorType.ArrayMaxItems:
      return `has too many items (maximum is ${e.schema.maxItems})`;
    default:
      return "is invalid";
  }
}

/** Turn a schema validation failure into field errors, one message per field, values never included. */
export function validationFields(error: ValidationError): ErrorFields {
  const fallback = error.type === "query" ? "query" : error.type === "params" ? "params" : "body";
  const fields: ErrorFields = {};
  for (const e of error.all) {
    if (!("path" in e)) continue;
    const field = fieldOf(e.path, fallback);
    // The first error per field is the most specific (a missing field also fails its type check).
    if (!fields[field]) fields[field] = [messageOf(e as unknown as SchemaError)];
  }
  if (Object.keys(fields).length === 0) fields[fallback] = ["is invalid"];
  return fields;
}

/** A full disk or a read-only filesystem is not fixed in a second; a client should not hammer it. */
const STORAGE_RETRY_AFTER_SECONDS = 30;

/**
 * `normalise` is the engine's error mapping (store.normaliseError): a busy, full, read-only or unreachable
 * database is answered 503 with Retry-After, never 500.
 */
export const errorsPlugin = (log: Logger, normalise: (err: unknown) => unknown = (err) => err) =>
  new Elysia({ name: "quire/errors" })
    .error({ AppError })
    .onError({ as: "global" }, ({ code, error: thrown, set, request }) => {
      set.headers["content-type"] = "application/json; charset=utf-8";
      // Elysia wraps whatever the body parser throws in a ParseError; ours are AppErrors (413, 415, 422).
      const error = code === "PARSE" && thrown.cause instanceof AppError ? thrown.cause : thrown;
      if (error instanceof AppError) {
        set.status = error.status;
        // Every 401 names how to authenticate; token errors bring their own, more precise challenge.
        if (error.status === 401) set.headers["www-authenticate"] = authChallenge();
        Object.assign(set.headers, error.headers);
        return { errors: error.fields };
      }
      switch (code) {
        case "VALIDATION":
          set.status = 422;
          return { errors: validationFields(error as ValidationError) };
        case "PARSE":
          set.status = 422;
          return { errors: { body: ["is not valid JSON"] } };
        case "NOT_FOUND":
          set.status = 404;
          return { errors: { path: ["not found"] } };
        default: {
          const status = (error as { status?: unknown }).status;
          if (typeof status === "number" && status >= 400 && status < 500) {
            set.status = status;
            return { errors: { request: ["is invalid"] } };
          }
          const reqId = requestInfo(request)?.id;
          const cause = normalise(error);
          if (cause instanceof MissingReference) {
            // What the request refers to was deleted meanwhile (a race with another request): nothing changed.
            set.status = 409;
            return { errors: { request: ["refers to something deleted meanwhile; nothing was changed"] } };
          }
          if (cause instanceof StoreUnavailable && cause.reason === "busy") {
            // Another process held the write lock past busy_timeout: transient, so 503 and retry.
            log.warn({ reqId, method: request.method, path: requestPath(request) }, "database busy");
            set.status = 503;
            set.headers["retry-after"] = "1";
            return { errors: { database: ["is busy, try again shortly"] } };
          }
          if (cause instanceof StoreUnavailable) {
            // Disk full, the database unwritable or unreachable: the operator must act; readiness says so
            // meanwhile (the store noted the failure).
            log.error(
              { reqId, reason: cause.reason, code: cause.code, method: request.method },
              "database not writable",
            );
            set.status = 503;
            set.headers["retry-after"] = String(STORAGE_RETRY_AFTER_SECONDS);
            return { errors: { database: ["cannot store changes right now, try again later"] } };
          }
          log.error(
            {
              err: error,
              reqId,
              method: request.method,
              path: requestPath(request),
            },
            "unhandled error",
          );
          set.status = 500;
          return { errors: { server: ["internal error"] } };
        }
      }
    });

/**
 * The answers routes share by kind, documented once under `components` (responses, headers, parameters) and
 * referenced by each route the OpenAPI builder (./openapi-document.ts) finds them to apply to. Their example
 * bodies are the server's own messages; tests/http/openapi-truth.test.ts sends the requests that produce them.
 */
import type { ErrorFields } from "../errors.ts";
import type { Json } from "./openapi-schemas.ts";

/** One reason a status can be answered: a route's own (from its response map) or a standard one. */
export interface Part {
  description: string;
  /** Derived from the kind of route, not declared by it: a route's own description says more. */
  standard?: boolean;
  /** Error bodies (kept in components.examples) or other example values. */
  examples: unknown[];
  schema?: Json;
  contentType?: string;
  headers?: string[];
  /** The components.responses entry this part is, when it stands alone. */
  ref?: string;
}

const bodies = (...fields: ErrorFields[]) => fields.map((errors) => ({ errors }));

/** The standard answers, kept once under components.responses. */
export function standardParts(bodyLimit: number) {
  const retryAfter = ["Retry-After"];
  return {
    Unauthorized: {
      status: 401,
      description: "No token, or a token that is malformed, expired, revoked or of an ended session",
      examples: bodies({ token: ["is missing"] }, { token: ["is invalid"] }),
    },
    InvalidToken: {
      status: 401,
      description: "A token was sent and is not valid (sending none is fine here)",
      examples: bodies({ token: ["is invalid"] }),
    },
    NotAdmin: {
      status: 403,
      description: "Signed in, but not as an admin",
      examples: bodies({ admin: ["forbidden"] }),
    },
    PayloadTooLarge: {
      status: 413,
      description: `The body is larger than BODY_LIMIT_BYTES (${bodyLimit} on this server); refused unread`,
      examples: bodies({ body: [`is too large (maximum is ${bodyLimit} bytes)`] }),
    },
    UnsupportedMediaType: {
      status: 415,
      description: "The body is not sent as `application/json` (or a `+json` type)",
      examples: bodies({ body: ["must be sent with Content-Type: application/json"] }),
    },
    TooManyRequests: {
      status: 429,
      description:
        "Rate limited: every request counts against its client IP, signed-in requests also against the user, and login, registration and refresh have a stricter per-IP budget. Wait `Retry-After` seconds; `RateLimit` and `RateLimit-Policy` (on every answer) show the budget.",
      examples: bodies({ rate: ["limit exceeded, retry in 12 seconds"] }),
      headers: ["Retry-After", "RateLimit", "RateLimit-Policy"],
    },
    Unavailable: {
      status: 503,
      description:
        "Nothing was changed: the service is read-only for maintenance (feature flag `maintenance`), or another process held the database's write lock too long. Retry after `Retry-After` seconds.",
      examples: bodies(
        { maintenance: ["the service is read-only for maintenance; try again later"] },
        { database: ["is busy, try again shortly"] },
      ),
      headers: retryAfter,
    },
    DatabaseBusy: {
      status: 503,
      description:
        "Nothing was changed: another process held the database's write lock too long. Retry after `Retry-After` seconds. (This route stays open in maintenance mode.)",
      examples: bodies({ database: ["is busy, try again shortly"] }),
      headers: retryAfter,
    },
    NotModified: {
      status: 304,
      description: "The `If-None-Match` ETag still matches: nothing changed since, and no body is sent",
      examples: [],
      headers: ["ETag"],
    },
  } satisfies Record<string, Part & { status: number }>;
}

export const headerComponents = {
  ETag: {
    description: "Strong validator of this exact body; send it back in `If-None-Match`",
    schema: { type: "string", examples: ['"1k3-2f9a7c1b0d4e"'] },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying",
    schema: { type: "integer", minimum: 1 },
  },
  RateLimit: {
    description: 'Remaining requests and seconds to reset, per policy (`"ip";r=0;t=12`)',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'The policies that applied (`"ip";q=600;w=60`)',
    schema: { type: "string" },
  },
};

export const ifNoneMatch = {
  name: "If-None-Match",
  in: "header",
  required: false,
  description: "The `ETag` of a copy you hold: an unchanged answer is 304 with no body",
  schema: { type: "string" },
};

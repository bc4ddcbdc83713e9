/** Schemas shared by several modules: the error envelope, profiles, pagination and field limits. */
import { t } from "elysia";

/** The RealWorld error envelope, documented on every error response. */
export const ErrorEnvelope = t.Object(
  { errors: t.Record(t.String(), t.Array(t.String())) },
  { description: 'Errors by field: `{"errors": {"<field>": ["<message>"]}}`' },
);

export const errorResponses = {
  401: { ...ErrorEnvelope, description: "Missing, invalid, expired or revoked token" },
  403: { ...ErrorEnvelope, description: "Authenticated but not allowed" },
  404: { ...ErrorEnvelope, description: "Resource not found" },
  409: { ...ErrorEnvelope, description: "Conflicts with existing data" },
  413: { ...ErrorEnvelope, description: "Request body too large" },
  415: { ...ErrorEnvelope, description: "Body is not application/json" },
  422: { ...ErrorEnvelope, description: "Validation failed" },
  429: { ...ErrorEnvelope, description: "Rate limited" },
} as const;

/** Pick the documented error responses for a route. */
export function errors<K extends keyof typeof errorResponses>(...codes: K[]): Pick<typeof errorResponses, K> {
  return Object.fromEntries(codes.map((c) => [c, errorResponses[c]])) as Pick<typeof errorResponses, K>;
}

/** Text that must say something: at least one non-blank character (a string of spaces is "blank"). */
export const Text = (maxLength: number, description?: string) =>
  t.String({ minLength: 1, maxLength, pattern: "\\S", ...(description ? { description } : {}) });

/**
 * A tag: printable text with at least one visible character. Control characters (NUL included) and invisible
 * format characters (zero-width spaces, bidi controls, BOM) are refused: a tag is also a URL parameter and a
 * realtime topic name.
 */
export const TAG_PATTERN =
  "^(?=.*[^\\s\\u200b-\\u200f\\u2060-\\u206f\\ufeff])[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff]+$";

export const limits = {
  username: 64,
  email: 254,
  passwordMin: 8,
  passwordMax: 256,
  bio: 4_000,
  url: 2_048,
  title: 256,
  description: 1_024,
  articleBody: 100_000,
  tag: 64,
  tags: 20,
  comment: 10_000,
  pageSize: 100,
} as const;

export const Profile = t.Object({
  username: t.String(),
  bio: t.Nullable(t.String()),
  image: t.Nullable(t.String()),
  following: t.Boolean(),
});

export const ProfileEnvelope = t.Object({ profile: Profile });

/**
 * limit/offset arrive as query strings: digits only, so "abc", "-1" and "1.5" are 422 naming the field.
 * Services turn them into numbers with `pageOf`, which caps limit at `limits.pageSize`.
 */
export const Pagination = {
  limit: t.Optional(
    t.String({ pattern: "^[1-9][0-9]{0,8}$", description: "Page size, 1–100 (larger is capped)" }),
  ),
  offset: t.Optional(t.String({ pattern: "^[0-9]{1,10}$", description: "Items to skip" })),
};

export function pageOf(
  query: { limit?: string; offset?: string },
  defaultLimit = 20,
  maxLimit: number = limits.pageSize,
) {
  return {
    limit: Math.min(query.limit === undefined ? defaultLimit : Number(query.limit), maxLimit),
    offset: query.offset === undefined ? 0 : Number(query.offset),
  };
}

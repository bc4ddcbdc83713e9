/** Schemas shared by several modules: the error envelope, profiles, pagination and field limits. */
import { t } from "elysia";
import type { ErrorFields } from "../errors.ts";
import { MAX_PAGE_SIZE } from "../lib/paging.ts";
import { component, documented } from "./docs.ts";

/** The RealWorld error envelope: every 4xx and 5xx answer has this shape. */
export const ErrorEnvelope = component(
  "ErrorEnvelope",
  t.Object(
    { errors: t.Record(t.String(), t.Array(t.String())) },
    {
      description:
        'Errors by field: `{"errors": {"<field>": ["<message>"]}}`. Messages never repeat the submitted value.',
    },
  ),
);

/**
 * A route's own error answer, for its `response` map: what it means, and the bodies the server really sends
 * (read from the service that throws them). The statuses every route of a kind shares (401, 413, 415, 429,
 * 503, 304 …) are added by the OpenAPI builder from the route itself; list only the route's own here.
 */
export const errorDoc = (description: string, ...examples: ErrorFields[]) => ({
  ...ErrorEnvelope,
  description,
  examples: examples.map((errors) => ({ errors })),
});

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
  pageSize: MAX_PAGE_SIZE,
} as const;

export const profileExample = {
  username: "jake",
  bio: "I work at statefarm",
  image: "https://example.com/avatars/jake.png",
  following: false,
};

export const Profile = component(
  "Profile",
  t.Object({
    username: t.String(),
    bio: t.Nullable(t.String()),
    image: t.Nullable(t.String()),
    following: t.Boolean({
      description: "Whether the viewer follows this user; false for anonymous readers",
    }),
  }),
);

export const ProfileEnvelope = t.Object(
  { profile: Profile },
  { description: "The profile, as the viewer sees it", examples: [{ profile: profileExample }] },
);

/**
 * limit/offset arrive as query strings: digits only, so "abc", "-1", "1.5" and "1e3" are 422 naming the field.
 * Services turn them into numbers with `pageOf`, which caps limit. The document shows them as the integers
 * they carry (Elysia's coercing `t.Integer` would also take "1e3", " 5" and "0x10", and name no field for "-1").
 */
export const pagination = (defaultLimit = 20, maxLimit: number = limits.pageSize) => ({
  limit: t.Optional(
    documented(t.String({ pattern: "^[1-9][0-9]{0,8}$" }), {
      documentAs: {
        type: "integer",
        minimum: 1,
        maximum: 999_999_999,
        default: defaultLimit,
        description: `Page size; more than ${maxLimit} is capped at ${maxLimit}`,
      },
    }),
  ),
  offset: t.Optional(
    documented(t.String({ pattern: "^[0-9]{1,10}$" }), {
      documentAs: {
        type: "integer",
        minimum: 0,
        maximum: 9_999_999_999,
        default: 0,
        description: "Items to skip",
      },
    }),
  ),
});

export const Pagination = pagination();

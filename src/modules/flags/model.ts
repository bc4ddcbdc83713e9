/** Request and response schemas of the flags admin API. */
import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { flagDefinitions, flagNames } from "./registry.ts";

export const Flag = component(
  "Flag",
  t.Object({
    name: t.String(),
    description: t.String(),
    perUser: t.Boolean({
      description: "Rolled out to a percentage of users by a stable hash of the user id",
    }),
    enabled: t.Boolean({
      description: "Effective value (environment override, else database, else default)",
    }),
    percentage: t.Integer({ minimum: 0, maximum: 100 }),
    source: t.Union([t.Literal("env"), t.Literal("database"), t.Literal("default")]),
    override: t.Nullable(t.Union([t.Literal("on"), t.Literal("off")]), {
      description: "The `QUIRE_FLAG_<NAME>` environment override, when set",
    }),
    updatedAt: t.Nullable(t.String({ format: "date-time" })),
  }),
);

const comments = {
  name: "comments",
  description: flagDefinitions.comments.description,
  perUser: true,
  enabled: true,
  percentage: 25,
  source: "database" as const,
  override: null,
  updatedAt: "2026-02-18T10:40:00.000Z",
};

export const FlagEnvelope = t.Object(
  { flag: Flag },
  { description: "The flag after the change", examples: [{ flag: comments }] },
);
export const FlagList = t.Object(
  { flags: t.Array(Flag) },
  {
    description: "Every flag Quire knows",
    examples: [
      {
        flags: [
          {
            name: "registration",
            description: flagDefinitions.registration.description,
            perUser: false,
            enabled: true,
            percentage: 100,
            source: "default",
            override: null,
            updatedAt: null,
          },
          comments,
          {
            name: "maintenance",
            description: flagDefinitions.maintenance.description,
            perUser: false,
            enabled: false,
            percentage: 100,
            source: "env",
            override: "off",
            updatedAt: null,
          },
        ],
      },
    ],
  },
);

export const FlagParams = t.Object({
  name: t.String({ maxLength: 64, description: `One of: ${flagNames.join(", ")}` }),
});

export const PatchFlagBody = t.Object(
  {
    enabled: t.Boolean(),
    percentage: t.Optional(
      t.Integer({ minimum: 0, maximum: 100, description: "Per-user flags only: share of users, 0–100" }),
    ),
  },
  { additionalProperties: false, examples: [{ enabled: true, percentage: 25 }] },
);

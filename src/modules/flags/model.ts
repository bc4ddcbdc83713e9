/** Request and response schemas of the flags admin API. */
import { t } from "elysia";
import { flagNames } from "./registry.ts";

export const Flag = t.Object({
  name: t.String(),
  description: t.String(),
  perUser: t.Boolean({ description: "Rolled out to a percentage of users by a stable hash of the user id" }),
  enabled: t.Boolean({ description: "Effective value (environment override, else database, else default)" }),
  percentage: t.Integer({ minimum: 0, maximum: 100 }),
  source: t.Union([t.Literal("env"), t.Literal("database"), t.Literal("default")]),
  override: t.Nullable(t.Union([t.Literal("on"), t.Literal("off")])),
  updatedAt: t.Nullable(t.String()),
});

export const FlagEnvelope = t.Object({ flag: Flag });
export const FlagList = t.Object({ flags: t.Array(Flag) });

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
  { additionalProperties: false },
);

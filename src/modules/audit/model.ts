import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { limits, Pagination } from "../../http/model.ts";
import { auditActions } from "./service.ts";

export const AuditQuery = t.Object({
  action: t.Optional(t.Union(auditActions.map((a) => t.Literal(a)))),
  actor: t.Optional(t.String({ maxLength: limits.username, description: "Username of whoever acted" })),
  since: t.Optional(t.String({ format: "date-time", description: "Inclusive lower bound (ISO 8601)" })),
  until: t.Optional(t.String({ format: "date-time", description: "Inclusive upper bound (ISO 8601)" })),
  ...Pagination,
});

export const AuditEntry = component(
  "AuditEntry",
  t.Object({
    id: t.Integer(),
    at: t.String({ format: "date-time" }),
    action: t.String(),
    actor: t.Nullable(t.String({ description: "Username; null for anonymous events and the CLI" })),
    targetType: t.Nullable(t.String()),
    targetId: t.Nullable(t.String()),
    ip: t.Nullable(t.String()),
    detail: t.Nullable(t.Record(t.String(), t.Unknown())),
  }),
);

export const AuditList = t.Object(
  {
    entries: t.Array(AuditEntry),
    entriesCount: t.Integer({ description: "Total matching entries, regardless of limit/offset" }),
  },
  {
    description: "A page of entries and the total that match",
    examples: [
      {
        entries: [
          {
            id: 18,
            at: "2026-02-18T11:04:27.310Z",
            action: "user.suspended",
            actor: "root",
            targetType: "user",
            targetId: "42",
            ip: "203.0.113.7",
            detail: { sessionsEnded: 2 },
          },
          {
            id: 17,
            at: "2026-02-18T11:01:09.004Z",
            action: "user.login_failed",
            actor: null,
            targetType: null,
            targetId: null,
            ip: "198.51.100.23",
            detail: { reason: "unknown-email", emailHash: "5f1c0e2a9b3d7c41" },
          },
        ],
        entriesCount: 2,
      },
    ],
  },
);

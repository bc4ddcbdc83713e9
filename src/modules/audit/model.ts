import { t } from "elysia";
import { limits, Pagination } from "../shared/model.ts";
import { auditActions } from "./service.ts";

export const AuditQuery = t.Object({
  action: t.Optional(t.Union(auditActions.map((a) => t.Literal(a)))),
  actor: t.Optional(t.String({ maxLength: limits.username, description: "Username of whoever acted" })),
  since: t.Optional(t.String({ format: "date-time", description: "Inclusive lower bound (ISO 8601)" })),
  until: t.Optional(t.String({ format: "date-time", description: "Inclusive upper bound (ISO 8601)" })),
  ...Pagination,
});

export const AuditEntry = t.Object({
  id: t.Integer(),
  at: t.String({ format: "date-time" }),
  action: t.String(),
  actor: t.Nullable(t.String({ description: "Username; null for anonymous events and the CLI" })),
  targetType: t.Nullable(t.String()),
  targetId: t.Nullable(t.String()),
  ip: t.Nullable(t.String()),
  detail: t.Nullable(t.Record(t.String(), t.Unknown())),
});

export const AuditList = t.Object({
  entries: t.Array(AuditEntry),
  entriesCount: t.Integer({ description: "Total matching entries, regardless of limit/offset" }),
});

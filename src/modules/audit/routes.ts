import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { security } from "../../http/docs.ts";
import { AuditList, AuditQuery } from "./model.ts";
import { auditActions, listAudit } from "./service.ts";

export const auditRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/audit", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/audit", ({ query }) => listAudit(ctx, query), {
      admin: true,
      query: AuditQuery,
      response: { 200: AuditList },
      detail: {
        summary: "Audit log",
        description: `Admin actions and security events, newest first, filtered by \`action\`, \`actor\` (username; an unknown one gives an empty list) and \`since\`/\`until\`. \`limit\` defaults to 20, capped at 100. Entries are kept for AUDIT_RETENTION_DAYS. Actions: ${auditActions.map((a) => `\`${a}\``).join(", ")}.`,
        security: security.admin,
      },
    });

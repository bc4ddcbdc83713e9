import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { errors } from "../shared/model.ts";
import { AuditList, AuditQuery } from "./model.ts";
import { auditActions, listAudit } from "./service.ts";

export const auditRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/audit", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .get("/api/admin/audit", ({ query }) => listAudit(ctx, query), {
      admin: true,
      query: AuditQuery,
      response: { 200: AuditList, ...errors(401, 403, 422, 429) },
      detail: {
        summary: "Audit log",
        description: `Admin actions and security events, newest first, filtered by \`action\`, \`actor\` (username) and \`since\`/\`until\`. Actions: ${auditActions.map((a) => `\`${a}\``).join(", ")}.`,
        security: [{ Token: [] }],
      },
    });

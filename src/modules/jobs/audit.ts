/** Audit rows for the admin actions of the jobs, webhooks and flags APIs (who, from where, what changed). */
import type { AppContext } from "../../context.ts";
import { type AuditAction, type AuditEntry, recordAudit } from "../audit/service.ts";

export interface AdminActor {
  id: number;
  ip?: string | null;
}

export function auditAdmin(
  ctx: AppContext,
  action: Extract<AuditAction, "flag.changed" | "webhook.created" | "webhook.deleted" | "job.retried">,
  actor: AdminActor | undefined,
  target: { type: NonNullable<AuditEntry["targetType"]>; id: string | number },
  detail?: Record<string, unknown>,
  tx?: Parameters<typeof recordAudit>[2],
): void {
  recordAudit(
    ctx,
    {
      action,
      actorId: actor?.id ?? null,
      ip: actor?.ip ?? null,
      targetType: target.type,
      targetId: target.id,
      ...(detail && { detail }),
    },
    tx,
  );
}

/** Audit rows for the admin actions of the jobs, webhooks and flags APIs (who, from where, what changed). */
import type { AppContext } from "../../context.ts";
import type { WriteTx } from "../../store/store.ts";
import { type AuditAction, type AuditEntry, recordAudit } from "../audit/service.ts";

export interface AdminActor {
  id: number;
  ip?: string | null;
}

/** In the caller's unit of work. */
export function auditAdmin(
  ctx: AppContext,
  tx: WriteTx,
  action: Extract<AuditAction, "flag.changed" | "webhook.created" | "webhook.deleted" | "job.retried">,
  actor: AdminActor | undefined,
  target: { type: NonNullable<AuditEntry["targetType"]>; id: string | number },
  detail?: Record<string, unknown>,
): Promise<void> {
  return recordAudit(ctx, tx, {
    action,
    actorId: actor?.id ?? null,
    ip: actor?.ip ?? null,
    targetType: target.type,
    targetId: target.id,
    ...(detail && { detail }),
  });
}

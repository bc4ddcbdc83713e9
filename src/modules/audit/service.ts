/**
 * The audit log: admin actions and security events, one row each, written in the transaction of the change
 * it describes where there is one. Details are small JSON objects and never hold secrets (no passwords, no
 * tokens, no hashes). Read by admins through GET /api/admin/audit.
 */
import type { AppContext } from "../../context.ts";
import { pageOf } from "../../lib/paging.ts";
import type { AuditFilter } from "../../store/accounts.ts";
import type { WriteTx } from "../../store/store.ts";

/** Every action written, so the admin API can document and validate its `action` filter. */
export const auditActions = [
  "user.login",
  "user.login_failed",
  "user.logout_all",
  "user.password_changed",
  "user.password_reset",
  "user.password_reset_requested",
  "user.email_verified",
  "user.exported",
  "user.deleted",
  "user.role_changed",
  "user.suspended",
  "user.unsuspended",
  "user.admin_created",
  "refresh_token.reused",
  "article.removed",
  "comment.removed",
  "flag.changed",
  "webhook.created",
  "webhook.deleted",
  "job.retried",
  "backup.created",
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  action: AuditAction;
  /** Who did it (null: anonymous, e.g. a failed login for an unknown email, or the CLI). */
  actorId?: number | null;
  targetType?: "user" | "session" | "article" | "comment" | "flag" | "webhook" | "job" | "backup";
  targetId?: string | number;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

/** Write an audit row in the caller's unit of work: it commits or rolls back with the change it describes. */
export async function recordAudit(ctx: AppContext, tx: WriteTx, entry: AuditEntry): Promise<void> {
  await tx.audit.insert({
    at: ctx.clock.now(),
    action: entry.action,
    actorId: entry.actorId ?? null,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId === undefined ? null : String(entry.targetId),
    ip: entry.ip ?? null,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}

/** An audit row in a unit of its own (for events with no write of their own: a failed login, a backup). */
export function recordAuditNow(ctx: AppContext, entry: AuditEntry): Promise<void> {
  return ctx.store.write((tx) => recordAudit(ctx, tx, entry));
}

export interface AuditFilters {
  action?: string;
  /** Actor's username. */
  actor?: string;
  since?: string;
  until?: string;
  limit?: string;
  offset?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function detailOf(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Newest first; `since`/`until` are inclusive ISO 8601 instants. */
export async function listAudit(ctx: AppContext, filters: AuditFilters) {
  const page = pageOf(filters);
  const filter: AuditFilter = {
    ...(filters.action && { action: filters.action }),
    ...(filters.since && { since: Date.parse(filters.since) }),
    ...(filters.until && { until: Date.parse(filters.until) }),
  };
  if (filters.actor !== undefined) {
    const actor = await ctx.store.read.users.byUsername(filters.actor);
    if (!actor) return { entries: [], entriesCount: 0 };
    filter.actorId = actor.id;
  }
  const [rows, total] = await Promise.all([
    ctx.store.read.audit.list(filter, page),
    ctx.store.read.audit.count(filter),
  ]);
  return {
    entries: rows.map((r) => ({ ...r, at: iso(r.at), detail: detailOf(r.detail) })),
    entriesCount: total,
  };
}

/** Audit rows for the admin actions of the jobs, webhooks and flags APIs (who, from where, what changed). */
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

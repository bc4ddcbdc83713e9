/**
 * The audit log: admin actions and security events, one row each, written in the transaction of the change
 * it describes where there is one. Details are small JSON objects and never hold secrets (no passwords, no
 * tokens, no hashes). Read by admins through GET /api/admin/audit.
 */
import { and, count, desc, eq, gte, lte, type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.ts";
import { auditLog, users } from "../../db/schema.ts";
import { pageOf } from "../shared/model.ts";

/** Every action written, so the admin API can document and validate its `action` filter. */
export const auditActions = [
  "user.login",
  "user.login_failed",
  "user.logout_all",
  "user.password_changed",
  "user.password_reset",
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

/** The database or a transaction on it: audit rows ride in the caller's transaction. */
type Executor = Pick<AppContext["db"], "insert">;

export function recordAudit(ctx: AppContext, entry: AuditEntry, tx: Executor = ctx.db): void {
  tx.insert(auditLog)
    .values({
      at: ctx.clock.now(),
      action: entry.action,
      actorId: entry.actorId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId === undefined ? null : String(entry.targetId),
      ip: entry.ip ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .run();
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
export function listAudit(ctx: AppContext, filters: AuditFilters) {
  const page = pageOf(filters);
  const where: (SQL | undefined)[] = [];
  if (filters.action) where.push(eq(auditLog.action, filters.action));
  if (filters.since) where.push(gte(auditLog.at, Date.parse(filters.since)));
  if (filters.until) where.push(lte(auditLog.at, Date.parse(filters.until)));
  if (filters.actor !== undefined) {
    const actor = ctx.db
      .select({ id: users.id })
      .from(users)
      .where(sql`lower(${users.username}) = lower(${filters.actor})`)
      .get();
    if (!actor) return { entries: [], entriesCount: 0 };
    where.push(eq(auditLog.actorId, actor.id));
  }
  const condition = and(...where);
  const rows = ctx.db
    .select({
      id: auditLog.id,
      at: auditLog.at,
      action: auditLog.action,
      actor: users.username,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      ip: auditLog.ip,
      detail: auditLog.detail,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .where(condition)
    .orderBy(desc(auditLog.id))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  const [total] = ctx.db.select({ n: count() }).from(auditLog).where(condition).all();
  return {
    entries: rows.map((r) => ({ ...r, at: iso(r.at), detail: detailOf(r.detail) })),
    entriesCount: total?.n ?? 0,
  };
}

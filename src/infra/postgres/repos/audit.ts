/** The audit log on Postgres: newest first, the actor's username joined in (null once the user is gone). */
import { and, count, desc, eq, gte, isNotNull, isNull, lte, or, type SQL } from "drizzle-orm";
import type { AuditFilter, AuditRepo } from "../../../store/accounts.ts";
import { auditLog, users } from "../schema.ts";
import type { PgDb } from "./shared.ts";

function filterOf(f: AuditFilter): SQL | undefined {
  return and(
    f.action !== undefined ? eq(auditLog.action, f.action) : undefined,
    f.actorId !== undefined ? eq(auditLog.actorId, f.actorId) : undefined,
    f.since !== undefined ? gte(auditLog.at, f.since) : undefined,
    f.until !== undefined ? lte(auditLog.at, f.until) : undefined,
  );
}

export function pgAudit(db: PgDb): AuditRepo {
  return {
    async insert(entry) {
      await db.insert(auditLog).values(entry);
    },
    async forgetAddressesOf(userId) {
      const about = and(
        eq(auditLog.targetType, "user"),
        eq(auditLog.targetId, String(userId)),
        isNull(auditLog.actorId),
      );
      const changed = await db
        .update(auditLog)
        .set({ ip: null })
        .where(and(isNotNull(auditLog.ip), or(eq(auditLog.actorId, userId), about)))
        .returning({ id: auditLog.id });
      return changed.length;
    },
    async list(filter, page) {
      return db
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
        .where(filterOf(filter))
        .orderBy(desc(auditLog.id))
        .limit(page.limit)
        .offset(page.offset);
    },
    async count(filter) {
      const [row] = await db.select({ n: count() }).from(auditLog).where(filterOf(filter));
      return row?.n ?? 0;
    },
  };
}

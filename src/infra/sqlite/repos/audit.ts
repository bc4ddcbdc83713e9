/** The audit log on SQLite. Listing filters vary per request, so those queries are built per call. */
import { and, count, desc, eq, gte, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { AuditFilter, AuditRepo } from "../../../store/accounts.ts";
import type { SqliteDb } from "../client.ts";
import { auditLog, users } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

function filterOf(f: AuditFilter): SQL | undefined {
  return and(
    f.action !== undefined ? eq(auditLog.action, f.action) : undefined,
    f.actorId !== undefined ? eq(auditLog.actorId, f.actorId) : undefined,
    f.since !== undefined ? gte(auditLog.at, f.since) : undefined,
    f.until !== undefined ? lte(auditLog.at, f.until) : undefined,
  );
}

export function sqliteAudit(db: SqliteDb): AuditRepo {
  const q = lazy(() => ({
    insert: db
      .insert(auditLog)
      .values({
        at: ph("at"),
        action: ph("action"),
        actorId: ph("actorId"),
        targetType: ph("targetType"),
        targetId: ph("targetId"),
        ip: ph("ip"),
        detail: ph("detail"),
      })
      .prepare(),
  }));
  return {
    async insert(entry) {
      q().insert.run({ ...entry });
    },
    async forgetAddressesOf(userId) {
      const about = and(
        eq(auditLog.targetType, "user"),
        eq(auditLog.targetId, String(userId)),
        isNull(auditLog.actorId),
      );
      return db
        .update(auditLog)
        .set({ ip: null })
        .where(and(isNotNull(auditLog.ip), or(eq(auditLog.actorId, userId), about)))
        .returning({ id: auditLog.id })
        .all().length;
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
        .offset(page.offset)
        .all();
    },
    async count(filter) {
      return db.select({ n: count() }).from(auditLog).where(filterOf(filter)).get()?.n ?? 0;
    },
  };
}

/** Webhook endpoints and their delivery log on SQLite. The events column is a JSON array of names. */
import { count, desc, eq, sql } from "drizzle-orm";
import type { WebhookRow, WebhooksRepo } from "../../../store/operations.ts";
import type { SqliteDb } from "../client.ts";
import { webhookDeliveries, webhooks } from "../schema.ts";
import { lazy } from "./lazy.ts";

const ph = (name: string) => sql.placeholder(name);

type Raw = Omit<WebhookRow, "events"> & { events: string };
const toRow = (r: Raw): WebhookRow => ({ ...r, events: JSON.parse(r.events) as string[] });

export function sqliteWebhooks(db: SqliteDb): WebhooksRepo {
  const q = lazy(() => ({
    count: db.select({ n: count() }).from(webhooks).prepare(),
    insert: db
      .insert(webhooks)
      .values({ url: ph("url"), events: ph("events"), secret: ph("secret"), createdAt: ph("now") })
      .returning()
      .prepare(),
    list: db.select().from(webhooks).orderBy(webhooks.id).limit(ph("limit")).offset(ph("offset")).prepare(),
    byId: db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, ph("id")))
      .prepare(),
    delete: db
      .delete(webhooks)
      .where(eq(webhooks.id, ph("id")))
      .returning({ id: webhooks.id })
      .prepare(),
    subscribed: db
      .select({ id: webhooks.id })
      .from(webhooks)
      .where(
        sql`${webhooks.enabled} = 1 and exists (select 1 from json_each(${webhooks.events}) where value = ${ph("event")})`,
      )
      .prepare(),
    record: db
      .insert(webhookDeliveries)
      .values({
        webhookId: ph("webhookId"),
        messageId: ph("messageId"),
        event: ph("event"),
        attempt: ph("attempt"),
        statusCode: ph("statusCode"),
        ok: ph("ok"),
        error: ph("error"),
        durationMs: ph("durationMs"),
        createdAt: ph("createdAt"),
      })
      .prepare(),
    deliveries: db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, ph("id")))
      .orderBy(desc(webhookDeliveries.id))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare(),
    countDeliveries: db
      .select({ n: count() })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.webhookId, ph("id")))
      .prepare(),
  }));
  return {
    async count() {
      return q().count.get()?.n ?? 0;
    },
    // RETURNING is read with .all(): .get() would leave the statement open and pin the WAL.
    async insert(w) {
      return toRow(q().insert.all({ ...w, events: JSON.stringify(w.events) })[0]!);
    },
    async list(page) {
      return q().list.all(page).map(toRow);
    },
    async byId(id) {
      const row = q().byId.get({ id });
      return row && toRow(row);
    },
    async delete(id) {
      return q().delete.all({ id }).length > 0;
    },
    async subscribedTo(event) {
      return q()
        .subscribed.all({ event })
        .map((r) => r.id);
    },
    async recordDelivery(d) {
      q().record.run({ ...d, ok: d.ok ? 1 : 0 });
    },
    async deliveries(id, page) {
      return q().deliveries.all({ id, ...page });
    },
    async countDeliveries(id) {
      return q().countDeliveries.get({ id })?.n ?? 0;
    },
  };
}

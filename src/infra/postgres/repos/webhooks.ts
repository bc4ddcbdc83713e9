/** Webhook endpoints and their delivery log on Postgres. `events` is a JSON array kept as text. */
import { count, desc, eq, sql } from "drizzle-orm";
import type { DeliveryRow, WebhookRow, WebhooksRepo } from "../../../store/operations.ts";
import { webhookDeliveries, webhooks } from "../schema.ts";
import type { PgDb } from "./shared.ts";

type Stored = typeof webhooks.$inferSelect;
const toWebhook = (r: Stored): WebhookRow => ({ ...r, events: JSON.parse(r.events) as string[] });

export function pgWebhooks(db: PgDb): WebhooksRepo {
  return {
    async count() {
      const [row] = await db.select({ n: count() }).from(webhooks);
      return row?.n ?? 0;
    },
    async insert(w) {
      const [row] = await db
        .insert(webhooks)
        .values({ url: w.url, events: JSON.stringify(w.events), secret: w.secret, createdAt: w.now })
        .returning();
      return toWebhook(row!);
    },
    async list(page) {
      const rows = await db
        .select()
        .from(webhooks)
        .orderBy(webhooks.id)
        .limit(page.limit)
        .offset(page.offset);
      return rows.map(toWebhook);
    },
    async byId(id) {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
      return row && toWebhook(row);
    },
    async delete(id) {
      // The delivery log goes by ON DELETE CASCADE.
      const rows = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
      return rows.length > 0;
    },
    async subscribedTo(event) {
      const rows = await db
        .select({ id: webhooks.id })
        .from(webhooks)
        .where(
          sql`${webhooks.enabled} and exists (select 1 from json_array_elements_text(${webhooks.events}::json) e where e = ${event})`,
        )
        .orderBy(webhooks.id);
      return rows.map((r) => r.id);
    },
    async recordDelivery(d) {
      await db.insert(webhookDeliveries).values(d);
    },
    async deliveries(webhookId, page) {
      return (await db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.webhookId, webhookId))
        .orderBy(desc(webhookDeliveries.id))
        .limit(page.limit)
        .offset(page.offset)) as DeliveryRow[];
    },
    async countDeliveries(webhookId) {
      const [row] = await db
        .select({ n: count() })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.webhookId, webhookId));
      return row?.n ?? 0;
    },
  };
}

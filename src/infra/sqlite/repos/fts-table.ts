/**
 * The FTS5 table as Drizzle sees it, for queries only. It is created by a hand-written migration
 * (drizzle/sqlite/0002_search.sql: contentless, rowid = articles.id), so it stays out of ../schema.ts, where
 * drizzle-kit would try to create it as an ordinary table.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const articlesFts = sqliteTable("articles_fts", {
  rowid: integer("rowid").notNull(),
  title: text("title"),
  description: text("description"),
  body: text("body"),
  tags: text("tags"),
});

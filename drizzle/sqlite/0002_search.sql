-- Full-text search over articles (title, description, body, tags) with SQLite FTS5.
-- Contentless (content=''): the index keeps no second copy of the text; rows are joined back to `articles`
-- by rowid = articles.id. The article services write the index row in the same transaction as the article
-- (INSERT OR REPLACE, once per write, with the tags); the trigger below removes it whenever an article row
-- goes, including cascades from deleting a user.
CREATE VIRTUAL TABLE `articles_fts` USING fts5(
  title, description, body, tags,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `articles_fts_delete` AFTER DELETE ON `articles` BEGIN
  DELETE FROM `articles_fts` WHERE rowid = old.id;
END;

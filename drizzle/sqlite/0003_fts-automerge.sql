-- FTS5 merges its index segments as it goes; with the default automerge of 4 it merges after every few
-- writes, which made indexing most of the cost of an article create at 100,000 articles. 16 lets
-- more small segments accumulate per level before merging them: a create with its index entry measured 2.6x cheaper
-- (497 → 179 µs per create on the benchmark corpus) with no measurable cost to queries, since a query
-- reads at most 16 segments per level. A setting of the FTS table, stored in its config table.
INSERT INTO `articles_fts` (`articles_fts`, `rank`) VALUES ('automerge', 16);

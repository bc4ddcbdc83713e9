-- The search index now holds what src/modules/search/text.ts makes of an article (runs of Chinese, Japanese,
-- Korean, Thai … as overlapping character pairs; NFKC), written by the application instead of copied by SQL.
-- All-ASCII text comes out unchanged, so those entries stay valid; the `search.reindex` job
-- (src/modules/search/reindex.ts) rewrites the others in batches once `quire serve` runs. A database without
-- articles needs nothing.
INSERT INTO `jobs` (`type`, `payload`, `run_at`, `unique_key`)
SELECT 'search.reindex', '{"after":0}', 0, 'search.reindex'
WHERE EXISTS (SELECT 1 FROM `articles`);

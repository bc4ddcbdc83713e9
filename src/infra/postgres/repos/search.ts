/**
 * Full-text search on Postgres: `articles_search.document` (a weighted tsvector with a GIN index, written by
 * ArticlesRepo.reindex) matched with `@@ $q::tsquery`. The tsvector and the tsquery are built from SQLite's
 * own tokens (./search-text.ts), so both engines find the same articles. Each filter (tag, author,
 * favorited) is a semi-join on its index, as on SQLite.
 *
 * Ranking: ts_rank_cd (cover density) with the column weights of SQLite's bm25 — title 10, tags 5,
 * description 3, body 1, scaled into Postgres's {D, C, B, A} range — then the newest first. The scores are
 * not bm25's, so two engines can order near-ties differently; the set of matches and the total do not depend
 * on ranking. Like bm25, ranking scores every match before it picks a page, so a search costs in proportion
 * to how many articles contain all of its words (the GIN index finds them; the table is never scanned).
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { SearchFilter, SearchRepo } from "../../../store/content.ts";
import { articles, articlesSearch, articleTags, favorites, tags } from "../schema.ts";
import { queryText, type SearchTokenizer } from "./search-text.ts";
import { type PgDb, ph } from "./shared.ts";

/** ts_rank_cd weights in Postgres's order {D body, C description, B tags, A title}: 1 : 3 : 5 : 10. */
export const RANK_WEIGHTS = "{0.1, 0.3, 0.5, 1.0}";

const query = sql`${ph("q")}::tsquery`;
const rank = sql`ts_rank_cd(${sql.raw(`'${RANK_WEIGHTS}'`)}::float4[], ${articlesSearch.document}, ${query})`;

function where(db: PgDb, f: SearchFilter): SQL | undefined {
  const id = articlesSearch.articleId;
  const tagId = sql`(select ${tags.id} from ${tags} where ${tags.name} = ${ph("tag")})`;
  return and(
    sql`${articlesSearch.document} @@ ${query}`,
    f.tag !== undefined
      ? sql`${id} in ${db.select({ id: articleTags.articleId }).from(articleTags).where(eq(articleTags.tagId, tagId))}`
      : undefined,
    f.author !== undefined
      ? sql`${id} in ${db
          .select({ id: articles.id })
          .from(articles)
          .where(eq(articles.authorId, ph("author")))}`
      : undefined,
    f.favorited !== undefined
      ? sql`${id} in ${db
          .select({ id: favorites.articleId })
          .from(favorites)
          .where(eq(favorites.userId, ph("favorited")))}`
      : undefined,
  );
}

function build(db: PgDb, f: SearchFilter) {
  const condition = where(db, f);
  return {
    ids: db
      .select({ id: articlesSearch.articleId })
      .from(articlesSearch)
      .where(condition)
      .orderBy(desc(rank), desc(articlesSearch.articleId))
      .limit(ph("limit"))
      .offset(ph("offset"))
      .prepare("search_ids"),
    count: db.select({ n: count() }).from(articlesSearch).where(condition).prepare("search_count"),
  };
}

export function pgSearch(db: PgDb, tokenizer: SearchTokenizer): SearchRepo {
  const built = new Map<string, ReturnType<typeof build>>();
  const statements = (f: SearchFilter) => {
    const key = `${+(f.tag !== undefined)}${+(f.author !== undefined)}${+(f.favorited !== undefined)}`;
    let s = built.get(key);
    if (!s) {
      s = build(db, f);
      built.set(key, s);
    }
    return s;
  };
  return {
    async page(terms, filter, page) {
      const q = queryText(tokenizer, terms);
      if (q === undefined) return { ids: [], count: 0 };
      const s = statements(filter);
      const params = {
        q,
        ...(filter.tag !== undefined && { tag: filter.tag }),
        ...(filter.author !== undefined && { author: filter.author }),
        ...(filter.favorited !== undefined && { favorited: filter.favorited }),
      };
      const [rows, total] = await Promise.all([
        s.ids.execute({ ...params, ...page }),
        s.count.execute(params),
      ]);
      return { ids: rows.map((r) => r.id), count: total[0]?.n ?? 0 };
    },
  };
}

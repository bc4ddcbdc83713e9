/**
 * A realistic corpus, fast: raw prepared bun:sqlite inserts in one transaction on an already-migrated
 * database (the benchmark and tests/perf/query-plans.test.ts share it). Deterministic (seeded PRNG), so two
 * runs give the same data and the same query plans.
 *
 * Shape: users write with a skew (a few prolific authors, a long tail), tags follow a Zipf-like curve (one
 * tag is on ~15% of articles, most are rare), favorites and follows are random pairs, comments cluster on
 * articles like favorites do. favorites_count is kept exact, as the application keeps it.
 */
import type { Database } from "bun:sqlite";
import { indexText } from "../src/lib/search-text.ts";

export interface SeedOptions {
  users: number;
  articles: number;
  /** Average comments per article. */
  commentsPerArticle?: number;
  /** Average favorites per user. */
  favoritesPerUser?: number;
  /** Average follows per user. */
  followsPerUser?: number;
  tags?: number;
  /** Fill the articles_fts index as the application does (src/modules/search/text.ts; slower; off for plan tests). */
  search?: boolean;
  /**
   * Share of articles (0–1) written in Japanese and Chinese instead of English: words from a small CJK
   * vocabulary run together without spaces, as those languages are written (for the search benchmark).
   */
  cjk?: number;
  /** The stored password hash of every seeded user (default: one that never verifies). */
  passwordHash?: string;
  /** created_at of the first article; each next one is a second later. */
  startMs?: number;
}

export interface SeedResult {
  users: number;
  articles: number;
  comments: number;
  favorites: number;
  follows: number;
  tags: string[];
  /** The most used tag (for "list by tag" workloads). */
  popularTag: string;
  ms: number;
}

const words =
  `time person year way day thing man world life hand part child eye woman place work week case point
  government company number group problem fact water story light system program question night home
  river garden engine bridge market letter paper music travel health energy forest island machine winter
  summer ocean mountain city village kitchen window science history language memory future silence dragon
  coffee planet signal rocket harbor lantern meadow thunder violin marble copper velvet orbit canyon glacier
  compass anchor beacon cipher quartz saffron tundra willow zephyr ember falcon granite horizon ivory jasper
  kestrel lattice mosaic nectar obsidian prism quiver raven sierra tempest umber vertex walnut yonder
  sqlite bun elysia drizzle typescript javascript rust golang python kernel compiler database index cache
  socket thread server client browser network protocol packet router stream buffer vector matrix tensor`
    .split(/\s+/)
    .filter(Boolean);

/** Japanese and Chinese words (1–5 characters), and the particles that join Japanese ones. */
const cjkWords =
  `東京 大阪 京都 日本語 中国語 天気 検索 記事 技術 開発 言語 写真 音楽 旅行 料理 経済 政治 歴史 科学 文化
  データベース サーバー ネットワーク プログラム コンピューター 北京 上海 学习 数据 程序 网络 系统 服务器
  研究 问题 世界 时间 工作 生活 电脑 手机 朋友 学校 老师 学生 城市 山 川 海 花 雨 雪 春 夏 秋 冬`
    .split(/\s+/)
    .filter(Boolean);
const particles = ["の", "と", "を", "に", "は", "で", "、", "。"];

/** mulberry32: small, fast, good enough for test data. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedDatabase(sqlite: Database, options: SeedOptions): SeedResult {
  const started = performance.now();
  const rnd = prng(42);
  const int = (n: number) => Math.floor(rnd() * n);
  /** Skewed towards small values: index 0 is the most popular. */
  const skewed = (n: number, power = 2.5) => Math.floor(rnd() ** power * n);
  const phrase = (n: number) => Array.from({ length: n }, () => words[int(words.length)]).join(" ");
  /** CJK text: words run together, a particle between some of them, no spaces. */
  const cjkPhrase = (n: number) =>
    Array.from(
      { length: n },
      () => cjkWords[int(cjkWords.length)]! + (rnd() < 0.5 ? particles[int(8)] : ""),
    ).join("");
  const cjkShare = options.cjk ?? 0;

  const userCount = options.users;
  const articleCount = options.articles;
  const tagNames = words.slice(0, Math.min(options.tags ?? 100, words.length));
  const hash = options.passwordHash ?? "$argon2id$v=19$m=8,t=1,p=1$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNo";
  const start = options.startMs ?? Date.UTC(2024, 0, 1);

  // Favorites first, so articles are inserted with their exact favorites_count.
  const favCounts = new Uint32Array(articleCount + 1);
  const favPairs: Array<[number, number]> = [];
  const favSeen = new Set<number>();
  const favTotal = Math.round(userCount * (options.favoritesPerUser ?? 20));
  for (let i = 0; i < favTotal; i++) {
    const user = 1 + int(userCount);
    const article = 1 + skewed(articleCount, 1.5);
    const key = user * (articleCount + 1) + article;
    if (favSeen.has(key)) continue;
    favSeen.add(key);
    favPairs.push([user, article]);
    favCounts[article]! += 1;
  }

  let comments = 0;
  let follows = 0;
  sqlite.transaction(() => {
    const insertUser = sqlite.prepare(
      "insert into users (id, username, email, password_hash, bio, image, role, created_at, updated_at) values (?, ?, ?, ?, ?, ?, 'editor', ?, ?)",
    );
    for (let id = 1; id <= userCount; id++) {
      const bio = id % 3 === 0 ? null : `I write about ${phrase(3)}.`;
      const image = id % 2 === 0 ? `https://img.example.com/u/${id}.png` : null;
      insertUser.run(id, `user${id}`, `user${id}@bench.test`, hash, bio, image, start, start);
    }

    const insertTag = sqlite.prepare("insert into tags (id, name) values (?, ?)");
    tagNames.forEach((name, i) => {
      insertTag.run(i + 1, name);
    });

    const insertArticle = sqlite.prepare(
      "insert into articles (id, slug, title, description, body, author_id, favorites_count, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insertLink = sqlite.prepare("insert into article_tags (article_id, tag_id) values (?, ?)");
    const insertFts = options.search
      ? sqlite.prepare(
          "insert into articles_fts (rowid, title, description, body, tags) values (?, ?, ?, ?, ?)",
        )
      : undefined;
    for (let id = 1; id <= articleCount; id++) {
      // No draw at all without CJK, so the English corpus stays the same as before this option.
      const cjk = cjkShare > 0 && rnd() < cjkShare;
      const title = cjk ? cjkPhrase(2 + int(3)) : phrase(3 + int(5));
      const description = cjk ? cjkPhrase(6 + int(6)) : phrase(10 + int(10));
      const body = cjk ? cjkPhrase(40 + int(40)) : phrase(60 + int(60));
      const at = start + id * 1000;
      const author = 1 + skewed(userCount);
      insertArticle.run(id, `article-${id}`, title, description, body, author, favCounts[id]!, at, at);
      const chosen = new Set<number>();
      for (let n = int(5); chosen.size < n; ) chosen.add(skewed(tagNames.length));
      for (const t of chosen) insertLink.run(id, t + 1);
      const tags = [...chosen].map((t) => tagNames[t]).join(" ");
      insertFts?.run(id, indexText(title), indexText(description), indexText(body), indexText(tags));
    }

    const insertComment = sqlite.prepare(
      "insert into comments (article_id, author_id, body, created_at, updated_at) values (?, ?, ?, ?, ?)",
    );
    const commentTotal = Math.round(articleCount * (options.commentsPerArticle ?? 2));
    for (let i = 0; i < commentTotal; i++) {
      const at = start + i * 500;
      insertComment.run(1 + skewed(articleCount, 1.5), 1 + int(userCount), phrase(8 + int(30)), at, at);
      comments++;
    }

    const insertFavorite = sqlite.prepare(
      "insert into favorites (user_id, article_id, created_at) values (?, ?, ?)",
    );
    for (const [user, article] of favPairs) insertFavorite.run(user, article, start);

    const insertFollow = sqlite.prepare(
      "insert or ignore into follows (follower_id, followee_id, created_at) values (?, ?, ?)",
    );
    const perUser = options.followsPerUser ?? 15;
    for (let follower = 1; follower <= userCount; follower++) {
      for (let k = 0; k < perUser; k++) {
        // Prolific authors are followed more, as in life.
        const followee = 1 + skewed(userCount, 1.8);
        if (followee !== follower) follows += insertFollow.run(follower, followee, start).changes;
      }
    }
  })();

  const popular = sqlite
    .query<{ name: string }, []>(
      "select t.name from tags t join article_tags at on at.tag_id = t.id group by t.id order by count(*) desc limit 1",
    )
    .get();
  return {
    users: userCount,
    articles: articleCount,
    comments,
    favorites: favPairs.length,
    follows,
    tags: tagNames,
    popularTag: popular?.name ?? tagNames[0]!,
    ms: Math.round(performance.now() - started),
  };
}

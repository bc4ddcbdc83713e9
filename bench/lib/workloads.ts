/**
 * The benchmark's workloads: what each one requests, against a corpus seeded by bench/seed.ts. Reads are
 * anonymous except the feed and the signed-in article read; writes rotate over 64 signed-in users, and every
 * write is distinct (numbered titles and comments; favourites over (user, article) pairs that do not repeat
 * within a run).
 *
 * Each workload names the servers it is compared with: "sql" (bench/baseline.ts, the same SQL on every
 * request, no cache) and/or "bytes" (bench/raw.ts, Quire's own answers replayed from memory).
 */
import type { LoadSpec } from "./load.ts";

export interface WorkloadContext {
  articles: number;
  popularTag: string;
  tokens: string[];
  /** Distinguishes runs on one database, so titles never collide across rounds. */
  run: string;
}

export interface Workload {
  id: string;
  title: string;
  spec(c: WorkloadContext): LoadSpec;
  /** Answers to compare byte for byte between Quire and the SQL baseline before measuring (reads only). */
  sameBytes?: boolean;
  /** The reference servers; default ["sql"]. */
  refs?: Reference[];
}

export type Reference = "sql" | "bytes";

/** `count` article slugs spread over the corpus (a prime count keeps (token, slug) pairs from repeating). */
const slugs = (c: WorkloadContext, count: number, suffix = "") =>
  Array.from({ length: count }, (_, i) => `/api/articles/article-${1 + ((i * 7919) % c.articles)}${suffix}`);

export const workloads: Workload[] = [
  {
    id: "slug",
    title: "GET article by slug (1,000 slugs, warm)",
    spec: (c) => ({ method: "GET", paths: slugs(c, 1000) }),
    sameBytes: true,
    refs: ["sql", "bytes"],
  },
  {
    id: "slug-auth",
    title: "GET article by slug, signed in (67 slugs × 64 readers, warm)",
    // 67 is prime, so every (reader, slug) pair comes round; the same-bytes server holds all 4,288 answers.
    spec: (c) => ({ method: "GET", paths: slugs(c, 67), tokens: c.tokens }),
    sameBytes: true,
    refs: ["sql", "bytes"],
  },
  {
    id: "live",
    title: "GET /health/live",
    spec: () => ({ method: "GET", paths: ["/health/live"] }),
    refs: ["bytes"],
  },
  {
    id: "list",
    title: "list 20 + total",
    spec: () => ({ method: "GET", paths: ["/api/articles"] }),
    sameBytes: true,
    refs: ["sql", "bytes"],
  },
  {
    id: "tag",
    title: "list by tag (most used tag)",
    spec: (c) => ({ method: "GET", paths: [`/api/articles?tag=${encodeURIComponent(c.popularTag)}`] }),
    sameBytes: true,
  },
  {
    id: "feed",
    title: "feed (64 readers)",
    spec: (c) => ({ method: "GET", paths: ["/api/articles/feed"], tokens: c.tokens }),
    sameBytes: true,
  },
  { id: "tags", title: "tags", spec: () => ({ method: "GET", paths: ["/api/tags"] }), sameBytes: true },
  {
    id: "create",
    title: "create article",
    spec: (c) => ({
      method: "POST",
      paths: ["/api/articles"],
      tokens: c.tokens,
      body: JSON.stringify({
        article: {
          title: `Benchmark ${c.run} article {n}`,
          description: "Written by the benchmark",
          body: "A short body, so the measure is the write path and not the JSON parser. ".repeat(4),
          tagList: ["bench", c.popularTag],
        },
      }),
    }),
  },
  {
    id: "comment",
    title: "comment",
    spec: (c) => ({
      method: "POST",
      paths: slugs(c, 9973, "/comments"),
      tokens: c.tokens,
      body: JSON.stringify({ comment: { body: `Benchmark ${c.run} comment {n}` } }),
    }),
  },
  {
    id: "favorite",
    title: "favorite",
    spec: (c) => ({ method: "POST", paths: slugs(c, 9973, "/favorite"), tokens: c.tokens }),
  },
];

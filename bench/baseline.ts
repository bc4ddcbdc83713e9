/**
 * The raw baseline: `Bun.serve` + bun:sqlite prepared statements, no framework, no cache. It answers the
 * benchmark's routes with the same SQL shapes as Quire (ids by index, then rows by primary key) and the same
 * JSON bytes (bench/run.ts compares them before measuring), so the ratio column shows what Quire's framework,
 * validation and security layers cost, and what its caches buy.
 *
 *   bun bench/baseline.ts --db <file> --port <n> --secret <jwt secret>
 *
 * Tokens are Quire's: HS256 JWTs naming a session, verified with node:crypto and checked against the
 * sessions table on every request, as Quire does on a session-cache miss.
 */
import { Database } from "bun:sqlite";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import { slugify } from "../src/lib/slug.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { db: { type: "string" }, port: { type: "string" }, secret: { type: "string" } },
});
if (!values.db || !values.port || !values.secret)
  throw new Error("usage: --db <file> --port <n> --secret <s>");
const secret = values.secret;

const db = new Database(values.db, { strict: true });
db.run("PRAGMA busy_timeout = 5000");
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = NORMAL");
db.run("PRAGMA foreign_keys = ON");
db.run("PRAGMA temp_store = MEMORY");
db.run("PRAGMA cache_size = -32000"); // the same pragmas as Quire (src/infra/sqlite/client.ts)

const fields = `a.id, a.slug, a.title, a.description, a.created_at, a.updated_at, a.favorites_count, a.author_id,
  (select json_group_array(name) from (select t.name as name from article_tags at join tags t on t.id = at.tag_id
    where at.article_id = a.id order by t.name)) as tag_list,
  (select username from users where id = a.author_id) as username,
  (select bio from users where id = a.author_id) as bio,
  (select image from users where id = a.author_id) as image`;
const q = {
  bySlug: db.query(`select ${fields}, a.body from articles a where a.slug = $slug`),
  idsAll: db.query("select id from articles order by id desc limit $limit offset $offset"),
  countAll: db.query("select count(*) as n from articles"),
  idsTag: db.query(
    "select article_id as id from article_tags where tag_id = (select id from tags where name = $tag) order by article_id desc limit $limit offset $offset",
  ),
  countTag: db.query(
    "select count(*) as n from article_tags where tag_id = (select id from tags where name = $tag)",
  ),
  idsFeed: db.query(
    "select id from articles where author_id in (select followee_id from follows where follower_id = $viewer) order by id desc limit $limit offset $offset",
  ),
  countFeed: db.query(
    "select count(*) as n from articles where author_id in (select followee_id from follows where follower_id = $viewer)",
  ),
  rows: db.query(`select ${fields} from articles a where a.id in (select value from json_each($ids))`),
  favoritedAmong: db.query(
    "select article_id as id from favorites where user_id = $viewer and article_id in (select value from json_each($ids))",
  ),
  followingAmong: db.query(
    "select followee_id as id from follows where follower_id = $viewer and followee_id in (select value from json_each($ids))",
  ),
  flags:
    db.query(`select exists(select 1 from favorites where user_id = $viewer and article_id = $article) as f,
    exists(select 1 from follows where follower_id = $viewer and followee_id = $author) as g`),
  tags: db.query(
    "select name from tags where exists(select 1 from article_tags where tag_id = tags.id) order by name",
  ),
  session: db.query(
    "select s.user_id as userId, u.role from sessions s join users u on u.id = s.user_id where s.id = $sid and s.revoked_at is null and s.expires_at > $now and u.suspended = 0",
  ),
  head: db.query("select id, author_id from articles where slug = $slug"),
  insertArticle: db.query(
    "insert into articles (slug, title, description, body, author_id, created_at, updated_at) values ($slug, $title, $description, $body, $author, $now, $now) returning id",
  ),
  insertTag: db.query("insert into tags (name) values ($name) on conflict do nothing"),
  tagId: db.query("select id from tags where name = $name"),
  link: db.query("insert into article_tags (article_id, tag_id) values ($article, $tag)"),
  fts: db.query(`insert or replace into articles_fts (rowid, title, description, body, tags)
    select a.id, a.title, a.description, a.body, coalesce((select group_concat(t.name, ' ') from article_tags at
      join tags t on t.id = at.tag_id where at.article_id = a.id), '') from articles a where a.id = $id`),
  insertComment: db.query(
    "insert into comments (article_id, author_id, body, created_at, updated_at) values ($article, $author, $body, $now, $now) returning id, created_at, updated_at",
  ),
  commentAuthor: db.query("select username, bio, image from users where id = $id"),
  favorite: db.query(
    "insert into favorites (user_id, article_id) values ($user, $article) on conflict do nothing returning article_id",
  ),
  bump: db.query("update articles set favorites_count = favorites_count + 1 where id = $id"),
};

interface Row {
  id: number;
  slug: string;
  title: string;
  description: string;
  created_at: number;
  updated_at: number;
  favorites_count: number;
  author_id: number;
  tag_list: string;
  username: string;
  bio: string | null;
  image: string | null;
  body?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const item = (r: Row, favorited = false, following = false) => ({
  slug: r.slug,
  title: r.title,
  description: r.description,
  tagList: JSON.parse(r.tag_list) as string[],
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  favorited,
  favoritesCount: r.favorites_count,
  author: { username: r.username, bio: r.bio, image: r.image, following },
});
const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
const fail = (status: number, field: string, message: string) =>
  json({ errors: { [field]: [message] } }, status);

/** HS256 JWT → { userId, role } for a live session, or undefined. */
function viewerOf(req: Request): { id: number; role: string } | undefined {
  const header = req.headers.get("authorization");
  const token = header?.replace(/^(Token|Bearer) +/i, "");
  if (!token) return undefined;
  const [h, p, s] = token.split(".");
  if (!h || !p || !s) return undefined;
  const expected = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  if (claims.typ !== "access" || typeof claims.sid !== "string" || claims.exp * 1000 < Date.now())
    return undefined;
  const session = q.session.get({ sid: claims.sid, now: Date.now() }) as {
    userId: number;
    role: string;
  } | null;
  if (!session || String(session.userId) !== claims.sub) return undefined;
  return { id: session.userId, role: session.role };
}

function page(ids: number[], count: number, viewer?: number) {
  const idsJson = JSON.stringify(ids);
  const byId = new Map((q.rows.all({ ids: idsJson }) as Row[]).map((r) => [r.id, r]));
  const rows = ids.map((id) => byId.get(id)).filter((r): r is Row => r !== undefined);
  let fav = new Set<number>();
  let fol = new Set<number>();
  if (viewer !== undefined && rows.length > 0) {
    fav = new Set((q.favoritedAmong.all({ viewer, ids: idsJson }) as { id: number }[]).map((r) => r.id));
    const authors = JSON.stringify([...new Set(rows.map((r) => r.author_id))]);
    fol = new Set((q.followingAmong.all({ viewer, ids: authors }) as { id: number }[]).map((r) => r.id));
  }
  return { articles: rows.map((r) => item(r, fav.has(r.id), fol.has(r.author_id))), articlesCount: count };
}

function article(slug: string, viewer?: number) {
  const r = q.bySlug.get({ slug }) as Row | null;
  if (!r) return undefined;
  let f = false;
  let g = false;
  if (viewer !== undefined) {
    const flags = q.flags.get({ viewer, article: r.id, author: r.author_id }) as { f: number; g: number };
    f = flags.f === 1;
    g = flags.g === 1;
  }
  return { article: { ...item(r, f, g), body: r.body } };
}

const pagination = (url: URL) => ({
  limit: Math.min(Number(url.searchParams.get("limit") ?? 20) || 20, 100),
  offset: Number(url.searchParams.get("offset") ?? 0) || 0,
});
const ids = (rows: unknown[]) => (rows as { id: number }[]).map((r) => r.id);

const createArticle = db.transaction((viewer: number, input: Record<string, unknown>) => {
  const now = Date.now();
  const title = String(input.title);
  let slug = slugify(title);
  if (q.head.get({ slug })) slug = `${slug}-${randomBytes(4).toString("hex").slice(0, 6)}`;
  const { id } = q.insertArticle.get({
    slug,
    title,
    description: String(input.description),
    body: String(input.body),
    author: viewer,
    now,
  }) as { id: number };
  const tagList = [...new Set(((input.tagList as string[]) ?? []).map((t) => t.trim()).filter(Boolean))];
  for (const name of tagList) {
    q.insertTag.run({ name });
    q.link.run({ article: id, tag: (q.tagId.get({ name }) as { id: number }).id });
  }
  q.fts.run({ id });
  return slug;
});

const server = Bun.serve({
  port: Number(values.port),
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "GET") {
      if (path === "/api/tags")
        return json({ tags: (q.tags.all() as { name: string }[]).map((r) => r.name) });
      if (path === "/api/articles") {
        const tag = url.searchParams.get("tag");
        const viewer = req.headers.has("authorization") ? viewerOf(req)?.id : undefined;
        const p = pagination(url);
        if (tag) {
          return json(
            page(ids(q.idsTag.all({ tag, ...p })), (q.countTag.get({ tag }) as { n: number }).n, viewer),
          );
        }
        return json(page(ids(q.idsAll.all(p)), (q.countAll.get() as { n: number }).n, viewer));
      }
      if (path === "/api/articles/feed") {
        const viewer = viewerOf(req);
        if (!viewer) return fail(401, "token", "is missing");
        const p = pagination(url);
        const count = (q.countFeed.get({ viewer: viewer.id }) as { n: number }).n;
        return json(page(ids(q.idsFeed.all({ viewer: viewer.id, ...p })), count, viewer.id));
      }
      if (path.startsWith("/api/articles/")) {
        const viewer = req.headers.has("authorization") ? viewerOf(req)?.id : undefined;
        const found = article(decodeURIComponent(path.slice("/api/articles/".length)), viewer);
        return found ? json(found) : fail(404, "article", "not found");
      }
    }
    if (req.method === "POST" && path.startsWith("/api/articles")) {
      const viewer = viewerOf(req);
      if (!viewer) return fail(401, "token", "is missing");
      if (path === "/api/articles") {
        const body = (await req.json()) as { article: Record<string, unknown> };
        return json(article(createArticle(viewer.id, body.article), viewer.id), 201);
      }
      const m = /^\/api\/articles\/([^/]+)\/(comments|favorite)$/.exec(path);
      const head = m ? (q.head.get({ slug: decodeURIComponent(m[1]!) }) as { id: number } | null) : null;
      if (!m || !head) return fail(404, "article", "not found");
      if (m[2] === "favorite") {
        db.transaction(() => {
          if (q.favorite.get({ user: viewer.id, article: head.id })) q.bump.run({ id: head.id });
        })();
        return json(article(decodeURIComponent(m[1]!), viewer.id));
      }
      const body = (await req.json()) as { comment: { body: string } };
      const c = q.insertComment.get({
        article: head.id,
        author: viewer.id,
        body: body.comment.body,
        now: Date.now(),
      }) as {
        id: number;
        created_at: number;
        updated_at: number;
      };
      const a = q.commentAuthor.get({ id: viewer.id }) as {
        username: string;
        bio: string | null;
        image: string | null;
      };
      return json(
        {
          comment: {
            id: c.id,
            createdAt: iso(c.created_at),
            updatedAt: iso(c.updated_at),
            body: body.comment.body,
            author: { ...a, following: false },
          },
        },
        201,
      );
    }
    return fail(404, "path", "not found");
  },
});
console.log(`baseline listening on ${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  db.close();
  process.exit(0);
});

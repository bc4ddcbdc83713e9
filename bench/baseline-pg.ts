/**
 * The raw Postgres baseline: `Bun.serve` + `Bun.sql` with hand-written SQL, no framework, no ORM, no cache:
 * the Postgres twin of bench/baseline.ts. Same routes, same SQL shapes as Quire's Postgres repositories (ids
 * by index, then rows by primary key; `= any($1)` arrays; tags in code point order) and the same JSON bytes
 * (bench/run.ts compares them before measuring), so the ratio column shows what Quire costs over the driver.
 *
 *   bun bench/baseline-pg.ts --url <postgres url> --port <n> --secret <jwt secret>
 *
 * Writes run in plain transactions at Postgres's default READ COMMITTED, as a hand-written server would, with
 * statements that are safe there (ON CONFLICT, one-statement counters); Quire runs every unit SERIALIZABLE
 * (src/infra/postgres/store.ts), so the write ratios include that cost. Pool: 10 connections, as Quire's.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { documentVector, SearchTokenizer } from "../src/infra/postgres/repos/search-text.ts";
import { slugify } from "../src/lib/slug.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { url: { type: "string" }, port: { type: "string" }, secret: { type: "string" } },
});
if (!values.url || !values.port || !values.secret)
  throw new Error("usage: --url <postgres url> --port <n> --secret <s>");
const secret = values.secret;
const database = decodeURIComponent(new URL(values.url).pathname.slice(1));
const sql = new SQL({ url: values.url, database, max: 10 });
const tokenizer = new SearchTokenizer();

const fields = `a.id, a.slug, a.title, a.description, a.created_at, a.updated_at, a.favorites_count, a.author_id,
  array(select t.name from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id
    order by t.name collate "C") as tag_list,
  (select username from users where id = a.author_id) as username,
  (select bio from users where id = a.author_id) as bio,
  (select image from users where id = a.author_id) as image`;

interface Row {
  id: string;
  slug: string;
  title: string;
  description: string;
  created_at: string;
  updated_at: string;
  favorites_count: number;
  author_id: string;
  tag_list: string[];
  username: string;
  bio: string | null;
  image: string | null;
  body?: string;
}

const iso = (ms: string | number) => new Date(Number(ms)).toISOString();
const item = (r: Row, favorited = false, following = false) => ({
  slug: r.slug,
  title: r.title,
  description: r.description,
  tagList: r.tag_list,
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

/** HS256 JWT → the user of a live session, or undefined. */
async function viewerOf(req: Request): Promise<number | undefined> {
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
  const [session] = await sql`select s.user_id from sessions s join users u on u.id = s.user_id
    where s.id = ${claims.sid} and s.revoked_at is null and s.expires_at > ${Date.now()} and not u.suspended`;
  if (!session || String(session.user_id) !== claims.sub) return undefined;
  return Number(session.user_id);
}

async function page(ids: number[], count: number, viewer?: number) {
  const found = (await sql.unsafe(`select ${fields} from articles a where a.id = any($1::bigint[])`, [
    ids,
  ])) as Row[];
  const byId = new Map(found.map((r) => [Number(r.id), r]));
  const rows = ids.map((id) => byId.get(id)).filter((r): r is Row => r !== undefined);
  let fav = new Set<number>();
  let fol = new Set<number>();
  if (viewer !== undefined && rows.length > 0) {
    const authors = [...new Set(rows.map((r) => Number(r.author_id)))];
    const [f, g] = await Promise.all([
      sql`select article_id as id from favorites where user_id = ${viewer} and article_id = any(${ids}::bigint[])`,
      sql`select followee_id as id from follows where follower_id = ${viewer} and followee_id = any(${authors}::bigint[])`,
    ]);
    fav = new Set(f.map((r: { id: string }) => Number(r.id)));
    fol = new Set(g.map((r: { id: string }) => Number(r.id)));
  }
  return {
    articles: rows.map((r) => item(r, fav.has(Number(r.id)), fol.has(Number(r.author_id)))),
    articlesCount: count,
  };
}

async function article(slug: string, viewer?: number) {
  const [r] = (await sql.unsafe(`select ${fields}, a.body from articles a where a.slug = $1`, [
    slug,
  ])) as Row[];
  if (!r) return undefined;
  let f = false;
  let g = false;
  if (viewer !== undefined) {
    const [flags] =
      await sql`select exists(select 1 from favorites where user_id = ${viewer} and article_id = ${r.id}) as f,
      exists(select 1 from follows where follower_id = ${viewer} and followee_id = ${r.author_id}) as g`;
    f = flags.f;
    g = flags.g;
  }
  return { article: { ...item(r, f, g), body: r.body } };
}

const pagination = (url: URL) => ({
  limit: Math.min(Number(url.searchParams.get("limit") ?? 20) || 20, 100),
  offset: Number(url.searchParams.get("offset") ?? 0) || 0,
});
const ids = (rows: { id: string }[]) => rows.map((r) => Number(r.id));
const n = (rows: { n: string }[]) => Number(rows[0]?.n ?? 0);

async function createArticle(viewer: number, input: Record<string, unknown>): Promise<string> {
  return sql.begin(async (tx) => {
    const now = Date.now();
    const title = String(input.title);
    let slug = slugify(title);
    const [taken] = await tx`select 1 from articles where slug = ${slug}`;
    if (taken) slug = `${slug}-${randomBytes(4).toString("hex").slice(0, 6)}`;
    const [{ id }] =
      await tx`insert into articles (slug, title, description, body, author_id, created_at, updated_at)
      values (${slug}, ${title}, ${String(input.description)}, ${String(input.body)}, ${viewer}, ${now}, ${now}) returning id`;
    const tagList = [...new Set(((input.tagList as string[]) ?? []).map((t) => t.trim()).filter(Boolean))];
    if (tagList.length > 0) {
      await tx`insert into tags (name) select unnest(${tagList}::text[]) on conflict do nothing`;
      await tx`insert into article_tags (article_id, tag_id) select ${id}, t.id from tags t where t.name = any(${tagList}::text[])`;
    }
    const document = documentVector(tokenizer, [
      { text: title, weight: "A" },
      { text: tagList.join(" "), weight: "B" },
      { text: String(input.description), weight: "C" },
      { text: String(input.body), weight: "D" },
    ]);
    await tx`insert into articles_search (article_id, document) values (${id}, ${document}::tsvector)`;
    return slug;
  });
}

const server = Bun.serve({
  port: Number(values.port),
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "GET") {
      if (path === "/api/tags") {
        const rows =
          await sql`select name from tags where exists(select 1 from article_tags where tag_id = tags.id)
          order by name collate "C"`;
        return json({ tags: rows.map((r: { name: string }) => r.name) });
      }
      if (path === "/api/articles") {
        const tag = url.searchParams.get("tag");
        const viewer = req.headers.has("authorization") ? await viewerOf(req) : undefined;
        const { limit, offset } = pagination(url);
        if (tag) {
          const [rows, count] = await Promise.all([
            sql`select article_id as id from article_tags where tag_id = (select id from tags where name = ${tag})
              order by article_id desc limit ${limit} offset ${offset}`,
            sql`select count(*) as n from article_tags where tag_id = (select id from tags where name = ${tag})`,
          ]);
          return json(await page(ids(rows), n(count), viewer));
        }
        const [rows, count] = await Promise.all([
          sql`select id from articles order by id desc limit ${limit} offset ${offset}`,
          sql`select count(*) as n from articles`,
        ]);
        return json(await page(ids(rows), n(count), viewer));
      }
      if (path === "/api/articles/feed") {
        const viewer = await viewerOf(req);
        if (viewer === undefined) return fail(401, "token", "is missing");
        const { limit, offset } = pagination(url);
        const [rows, count] = await Promise.all([
          sql`select id from articles where author_id in (select followee_id from follows where follower_id = ${viewer})
            order by id desc limit ${limit} offset ${offset}`,
          sql`select count(*) as n from articles where author_id in (select followee_id from follows where follower_id = ${viewer})`,
        ]);
        return json(await page(ids(rows), n(count), viewer));
      }
      if (path.startsWith("/api/articles/")) {
        const viewer = req.headers.has("authorization") ? await viewerOf(req) : undefined;
        const found = await article(decodeURIComponent(path.slice("/api/articles/".length)), viewer);
        return found ? json(found) : fail(404, "article", "not found");
      }
    }
    if (req.method === "POST" && path.startsWith("/api/articles")) {
      const viewer = await viewerOf(req);
      if (viewer === undefined) return fail(401, "token", "is missing");
      if (path === "/api/articles") {
        const body = (await req.json()) as { article: Record<string, unknown> };
        return json(await article(await createArticle(viewer, body.article), viewer), 201);
      }
      const m = /^\/api\/articles\/([^/]+)\/(comments|favorite)$/.exec(path);
      const slug = m ? decodeURIComponent(m[1]!) : "";
      const [head] = m ? await sql`select id from articles where slug = ${slug}` : [];
      if (!m || !head) return fail(404, "article", "not found");
      if (m[2] === "favorite") {
        await sql.begin(async (tx) => {
          const [added] =
            await tx`insert into favorites (user_id, article_id) values (${viewer}, ${head.id}) on conflict do nothing returning article_id`;
          if (added)
            await tx`update articles set favorites_count = favorites_count + 1 where id = ${head.id}`;
        });
        return json(await article(slug, viewer));
      }
      const body = (await req.json()) as { comment: { body: string } };
      const now = Date.now();
      const [[c], [a]] = await Promise.all([
        sql`insert into comments (article_id, author_id, body, created_at, updated_at)
          values (${head.id}, ${viewer}, ${body.comment.body}, ${now}, ${now}) returning id, created_at, updated_at`,
        sql`select username, bio, image from users where id = ${viewer}`,
      ]);
      return json(
        {
          comment: {
            id: Number(c.id),
            createdAt: iso(c.created_at),
            updatedAt: iso(c.updated_at),
            body: body.comment.body,
            author: { username: a.username, bio: a.bio, image: a.image, following: false },
          },
        },
        201,
      );
    }
    return fail(404, "path", "not found");
  },
});
console.log(`baseline (postgres) listening on ${server.port}`);
process.on("SIGTERM", () => {
  void server.stop(true);
  tokenizer.close();
  void sql.close().finally(() => process.exit(0));
});

/**
 * Former slugs: a new title gives an article a new slug (the RealWorld spec), and the slug it had keeps
 * answering, so links and bookmarks do not break. A request for a former slug is redirected to the same path
 * under the article's current slug:
 *
 * - reads (`GET /api/articles/:slug`, `GET …/comments`) answer **301 Moved Permanently**;
 * - writes (`PUT`/`DELETE` the article, `POST`/`DELETE …/favorite`, `POST …/comments`, `DELETE …/comments/:id`)
 *   answer **308 Permanent Redirect**, which keeps the method and body (a 301 lets clients turn a POST into a
 *   GET). The old slug names exactly one article, so following it does what the client meant.
 *
 * Both carry `Location` (the new path, percent-encoded), the error envelope and the Cache-Control of any API
 * answer (`no-cache` for reads, src/http/etag.ts): browsers keep a bare 301 for good, and this one ends when
 * another article takes the old slug.
 *
 * Rules (table `former_slugs`, ArticlesRepo in src/store/content.ts): a live slug always wins (an article created or renamed with
 * someone's former slug takes it, and the entry goes in the same transaction); every former slug points at
 * the article, so a chain of renames resolves in one hop; the history goes with the article (ON DELETE
 * CASCADE). The admin routes and realtime topics take current slugs only.
 */
import type { AppContext } from "../../context.ts";
import { AppError, notFound } from "../../errors.ts";

export type Redirect = 301 | 308;

/** The path of an article resource, its slug percent-encoded (slugs may hold any letter). */
export const articlePath = (slug: string, suffix = "") =>
  `/api/articles/${encodeURIComponent(slug)}${suffix}`;

/**
 * What to answer for a slug that no article has now: a redirect to `suffix` (`""`, `/comments`, …) under the
 * article's current slug if it is a former one, else 404.
 */
export async function missingArticle(
  ctx: AppContext,
  slug: string,
  suffix = "",
  status: Redirect = 301,
): Promise<AppError> {
  const current = await ctx.store.read.articles.currentSlugOf(slug);
  if (current === undefined) return notFound("article");
  const location = articlePath(current, suffix);
  return new AppError(status, { article: [`has moved to ${articlePath(current)}`] }, { location });
}

import { t } from "elysia";
import { ErrorEnvelope, limits, Pagination, Profile, TAG_PATTERN, Text } from "../shared/model.ts";

const Tag = t.String({ minLength: 1, maxLength: limits.tag, pattern: TAG_PATTERN });
const TagList = t.Array(Tag, {
  maxItems: limits.tags,
  description: "Kept in the order given; duplicates dropped",
});

export const CreateArticleBody = t.Object({
  article: t.Object({
    title: Text(limits.title),
    description: Text(limits.description),
    body: Text(limits.articleBody),
    tagList: t.Optional(TagList),
  }),
});

export const UpdateArticleBody = t.Object({
  article: t.Object({
    title: t.Optional(Text(limits.title)),
    description: t.Optional(Text(limits.description)),
    body: t.Optional(Text(limits.articleBody)),
    tagList: t.Optional(TagList),
  }),
});

const articleFields = {
  slug: t.String(),
  title: t.String(),
  description: t.String(),
  tagList: t.Array(t.String()),
  createdAt: t.String({ format: "date-time" }),
  updatedAt: t.String({ format: "date-time" }),
  favorited: t.Boolean(),
  favoritesCount: t.Integer(),
  author: Profile,
};

export const Article = t.Object({ ...articleFields, body: t.String() });
/** Articles in lists carry no `body`. */
export const ArticleListItem = t.Object(articleFields);
export const ArticleEnvelope = t.Object({ article: Article });
export const ArticleList = t.Object({
  articles: t.Array(ArticleListItem),
  articlesCount: t.Integer({ description: "Total matching articles, regardless of limit/offset" }),
});

/** Longest search text accepted (longer is 422); see src/modules/search/fts-query.ts for what is searched. */
export const SEARCH_MAX_CHARS = 256;

export const ListQuery = t.Object({
  q: t.Optional(
    t.String({
      maxLength: SEARCH_MAX_CHARS,
      description:
        "Full-text search over title, description, body and tags. The text is split into words (letters and digits; everything else, quotes and operators included, only separates words) and every word must match; at most 12 words count. A word matches that word regardless of case and accents; the last word, from 3 characters, also matches the words it begins (`hel` finds `hello`). Chinese, Japanese, Korean and Thai match anywhere inside the text (`日本語` finds `日本語のタイトル`). Results are ranked by relevance (bm25; title matches weigh most), then newest first. Blank text lists as if absent; text without any word matches nothing.",
    }),
  ),
  tag: t.Optional(t.String({ maxLength: limits.tag })),
  author: t.Optional(t.String({ maxLength: limits.username })),
  favorited: t.Optional(t.String({ maxLength: limits.username })),
  ...Pagination,
});
export const FeedQuery = t.Object(Pagination);
export const SlugParams = t.Object({ slug: t.String({ maxLength: 512 }) });

export type CreateArticleInput = (typeof CreateArticleBody.static)["article"];
export type UpdateArticleInput = (typeof UpdateArticleBody.static)["article"];
export type ListFilters = typeof ListQuery.static;

/** The answers for a former slug of a renamed article (src/modules/articles/former-slugs.ts). */
export const movedResponses = {
  301: {
    ...ErrorEnvelope,
    description: "A former slug of a renamed article: `Location` is the same resource under its current slug",
  },
  308: {
    ...ErrorEnvelope,
    description:
      "A former slug of a renamed article: repeat the request (same method and body) at `Location`, the same resource under its current slug",
  },
} as const;
export const moved = <K extends keyof typeof movedResponses>(code: K) =>
  ({ [code]: movedResponses[code] }) as Pick<typeof movedResponses, K>;

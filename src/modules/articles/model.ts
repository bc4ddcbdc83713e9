import { t } from "elysia";
import { component } from "../../http/docs.ts";
import {
  errorDoc,
  limits,
  Pagination,
  Profile,
  profileExample,
  TAG_PATTERN,
  Text,
} from "../../http/model.ts";

const Tag = t.String({ minLength: 1, maxLength: limits.tag, pattern: TAG_PATTERN });
const TagList = t.Array(Tag, {
  maxItems: limits.tags,
  description: "Kept in the order given; duplicates dropped",
});

const newArticleExample = {
  title: "How to train your dragon",
  description: "Ever wonder how?",
  body: "It takes a Jacobian",
  tagList: ["dragons", "training"],
};

export const CreateArticleBody = t.Object(
  {
    article: component(
      "NewArticle",
      t.Object({
        title: Text(limits.title),
        description: Text(limits.description),
        body: Text(limits.articleBody, "Markdown, as the client wrote it"),
        tagList: t.Optional(TagList),
      }),
    ),
  },
  { examples: [{ article: newArticleExample }] },
);

export const UpdateArticleBody = t.Object(
  {
    article: component(
      "UpdateArticle",
      t.Object(
        {
          title: t.Optional(Text(limits.title)),
          description: t.Optional(Text(limits.description)),
          body: t.Optional(Text(limits.articleBody)),
          tagList: t.Optional(TagList),
        },
        {
          description: "Only the fields sent change; an omitted `tagList` keeps the tags, `[]` removes them",
        },
      ),
    ),
  },
  { examples: [{ article: { title: "Did you train your dragon?" } }] },
);

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

export const Article = component("Article", t.Object({ ...articleFields, body: t.String() }));
/** Articles in lists carry no `body`. */
export const ArticleListItem = component(
  "ArticleListItem",
  t.Object(articleFields, { description: "An article as lists show it: everything but `body`" }),
);

export const articleListItemExample = {
  slug: "how-to-train-your-dragon",
  title: newArticleExample.title,
  description: newArticleExample.description,
  tagList: newArticleExample.tagList,
  createdAt: "2026-02-18T03:22:56.637Z",
  updatedAt: "2026-02-18T03:48:35.824Z",
  favorited: false,
  favoritesCount: 2,
  author: profileExample,
};
export const articleExample = { ...articleListItemExample, body: newArticleExample.body };

export const ArticleEnvelope = t.Object(
  { article: Article },
  { description: "The article, as the viewer sees it", examples: [{ article: articleExample }] },
);
export const ArticleList = t.Object(
  {
    articles: t.Array(ArticleListItem),
    articlesCount: t.Integer({ description: "Total matching articles, regardless of limit/offset" }),
  },
  {
    description: "A page of articles (without their bodies) and the total that match",
    examples: [
      {
        articles: [
          articleListItemExample,
          {
            ...articleListItemExample,
            slug: "dragons-at-dawn",
            title: "Dragons at dawn",
            description: "Early flights",
            tagList: ["dragons"],
            favoritesCount: 0,
            author: { ...profileExample, username: "ada", bio: null, image: null },
          },
        ],
        articlesCount: 2,
      },
    ],
  },
);

/** Longest search text accepted (longer is 422); see src/lib/search-terms.ts for what is searched. */
export const SEARCH_MAX_CHARS = 256;

export const ListQuery = t.Object({
  q: t.Optional(
    t.String({
      maxLength: SEARCH_MAX_CHARS,
      description:
        "Full-text search over title, description, body and tags. The text is split into words (letters and digits; everything else, quotes and operators included, only separates words) and every word must match; at most 12 words count. A word matches that word regardless of case and accents; the last word, from 3 characters, also matches the words it begins (`hel` finds `hello`). Chinese, Japanese, Korean and Thai match anywhere inside the text (`日本語` finds `日本語のタイトル`). Results are ranked by relevance (bm25; title matches weigh most), then newest first. Blank text lists as if absent; text without any word matches nothing.",
    }),
  ),
  tag: t.Optional(t.String({ maxLength: limits.tag, description: "Only articles with this tag" })),
  author: t.Optional(t.String({ maxLength: limits.username, description: "Only articles by this username" })),
  favorited: t.Optional(
    t.String({ maxLength: limits.username, description: "Only articles this username favorited" }),
  ),
  ...Pagination,
});
export const FeedQuery = t.Object(Pagination);
export const SlugParams = t.Object({ slug: t.String({ maxLength: 512, description: "The article's slug" }) });

export type CreateArticleInput = (typeof CreateArticleBody.static)["article"];
export type UpdateArticleInput = (typeof UpdateArticleBody.static)["article"];
export type ListFilters = typeof ListQuery.static;

/** The answers for a former slug of a renamed article (src/modules/articles/former-slugs.ts). */
const movedExample = { article: ["has moved to /api/articles/how-to-train-your-dragon"] };
export const movedResponses = {
  301: errorDoc(
    "A former slug of a renamed article: `Location` is the same resource under its current slug",
    movedExample,
  ),
  308: errorDoc(
    "A former slug of a renamed article: repeat the request (same method and body) at `Location`, the same resource under its current slug",
    movedExample,
  ),
} as const;
export const moved = <K extends keyof typeof movedResponses>(code: K) =>
  ({ [code]: movedResponses[code] }) as Pick<typeof movedResponses, K>;

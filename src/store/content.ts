/**
 * Repositories of the content: articles (with their tags, favourites and search entry), profiles and
 * follows, comments, tags, search. Rows are engine-neutral: ids are numbers, timestamps epoch milliseconds,
 * flags booleans, tag lists arrays.
 */

/** An article as lists show it: author fields and tags included, no body. */
export interface ArticleRow {
  id: number;
  slug: string;
  title: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  favoritesCount: number;
  authorId: number;
  /** Sorted (see ArticlesRepo.setTags). */
  tagList: string[];
  authorUsername: string;
  authorBio: string | null;
  authorImage: string | null;
}

export interface ArticleDetailRow extends ArticleRow {
  body: string;
}

/** The few columns a write needs to decide 404/403. */
export interface ArticleHead {
  id: number;
  slug: string;
  authorId: number;
  updatedAt: number;
}

/**
 * Which filters a list has. Values: `tag` a name; `author`, `favorited` user ids (resolved by the
 * caller); `feed` the reader whose followed authors' articles are listed.
 */
export interface ListFilter {
  tag?: string;
  author?: number;
  favorited?: number;
  feed?: number;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface NewArticle {
  slug: string;
  title: string;
  description: string;
  body: string;
  authorId: number;
  now: number;
}

export interface ArticleChanges {
  slug: string;
  title?: string;
  description?: string;
  body?: string;
  updatedAt: number;
}

export interface ArticlesRepo {
  bySlug(slug: string): Promise<ArticleDetailRow | undefined>;
  headBySlug(slug: string): Promise<ArticleHead | undefined>;
  /** Rows of these ids, in no particular order; unknown ids are skipped. */
  byIds(ids: readonly number[]): Promise<ArticleRow[]>;
  /** Ids of one page of a filter, newest first. */
  pageIds(filter: ListFilter, page: Page): Promise<number[]>;
  count(filter: ListFilter): Promise<number>;
  /** One reader's flags on one article; undefined if the reader no longer exists. */
  viewerFlags(
    viewer: number,
    articleId: number,
    authorId: number,
  ): Promise<{ favorited: boolean; following: boolean } | undefined>;
  /** Which of `ids` the viewer has favourited. */
  favoritedAmong(viewer: number, ids: readonly number[]): Promise<number[]>;

  /** Throws UniqueViolation("articles_slug_uq") when the slug is taken. */
  insert(article: NewArticle): Promise<number>;
  /** Throws UniqueViolation("articles_slug_uq") when the new slug is taken. */
  update(id: number, changes: ArticleChanges): Promise<void>;
  /** Replace the article's tags (names already cleaned by the caller). */
  setTags(id: number, names: readonly string[]): Promise<void>;
  /** The article's tags, sorted. */
  tagNames(id: number): Promise<string[]>;
  /** Write the article's search entry afresh from its row and tags (after insert, update, setTags). */
  reindex(id: number): Promise<void>;
  /**
   * Backfill: re-write the search entries of the next `limit` articles after id `after` whose text is not
   * all ASCII (an index format change). Returns the last id scanned, or undefined when none are left.
   */
  reindexAfter(after: number, limit: number): Promise<number | undefined>;
  /** The current slug of the article that once had `formerSlug`, if any. */
  currentSlugOf(formerSlug: string): Promise<string | undefined>;
  /** `slug` is live now (a new article or a rename took it): it stops being anyone's former slug. */
  takeSlug(slug: string): Promise<void>;
  /** `slug` becomes a former slug of `articleId` (a rename), replacing whose it was. */
  rememberFormerSlug(articleId: number, slug: string, now: number): Promise<void>;
  /** The row and everything hanging off it (comments, favourites, tag links, search entry). */
  delete(id: number): Promise<void>;
  /** True when the favourite is new (a repeat changes nothing). */
  favorite(userId: number, articleId: number): Promise<boolean>;
  /** True when there was a favourite to remove. */
  unfavorite(userId: number, articleId: number): Promise<boolean>;
  /** Move favorites_count by ±1 (never below 0); the count as committed. */
  bumpFavorites(articleId: number, delta: 1 | -1): Promise<number>;
}

export interface ProfileRow {
  id: number;
  username: string;
  bio: string | null;
  image: string | null;
}

export interface ProfilesRepo {
  /** By username, ASCII case-insensitively (the uniqueness rule of usernames). */
  byUsername(username: string): Promise<ProfileRow | undefined>;
  isFollowing(follower: number, followee: number): Promise<boolean>;
  /** Which of the users `ids` the viewer follows. */
  followingAmong(viewer: number, ids: readonly number[]): Promise<number[]>;
  /** Everyone `follower` follows. */
  followees(follower: number): Promise<number[]>;
  /** Idempotent; true when something changed. */
  follow(follower: number, followee: number): Promise<boolean>;
  unfollow(follower: number, followee: number): Promise<boolean>;
}

export interface CommentRow {
  id: number;
  articleId: number;
  createdAt: number;
  updatedAt: number;
  body: string;
  authorId: number;
  authorUsername: string;
  authorBio: string | null;
  authorImage: string | null;
  /** Whether the viewer the row was read for follows the author (false for anonymous reads). */
  following: boolean;
}

export interface CommentHead {
  id: number;
  articleId: number;
  authorId: number;
  slug: string;
}

export interface CommentsRepo {
  /** Oldest first. `viewer` 0 for anonymous. */
  list(articleId: number, viewer: number, page: Page): Promise<CommentRow[]>;
  one(id: number, viewer: number): Promise<CommentRow | undefined>;
  /** The comment with its article's slug, for deletes (by id alone: moderation). */
  head(id: number): Promise<CommentHead | undefined>;
  insert(comment: { articleId: number; authorId: number; body: string; now: number }): Promise<number>;
  delete(id: number): Promise<void>;
}

export interface TagsRepo {
  /** Tags of at least one article, sorted. */
  inUse(): Promise<string[]>;
}

export interface SearchFilter {
  tag?: string;
  author?: number;
  favorited?: number;
}

export interface SearchRepo {
  /**
   * One page of the ids of articles matching every one of `terms` (words cut from the reader's text by
   * src/lib/search-terms.ts, never engine syntax), best first, with the total. How a word matches (stems,
   * prefixes, accents) is the engine's; see its search notes.
   */
  page(terms: readonly string[], filter: SearchFilter, page: Page): Promise<{ ids: number[]; count: number }>;
}

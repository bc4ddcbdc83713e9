/** Rows the contract tests build on, written through the store as the services write them. */
import type { Role } from "../../src/policy.ts";
import type { UserRow } from "../../src/store/accounts.ts";
import type { Page, SearchFilter, SearchRepo } from "../../src/store/content.ts";
import type { Store } from "../../src/store/store.ts";

export const T0 = 1_700_000_000_000;

export function addUser(
  store: Store,
  username: string,
  options: { role?: Role; email?: string; now?: number } = {},
): Promise<UserRow> {
  return store.write((tx) =>
    tx.users.insert({
      username,
      email: options.email ?? `${username.toLowerCase()}@example.com`,
      passwordHash: "hash",
      role: options.role ?? "editor",
      now: options.now ?? T0,
    }),
  );
}

export interface ArticleSeed {
  slug: string;
  title?: string;
  description?: string;
  body?: string;
  tags?: string[];
  now?: number;
}

/** Insert, tags, search entry: what createArticle does in its unit. */
export function addArticle(store: Store, authorId: number, seed: ArticleSeed): Promise<number> {
  return store.write(async (tx) => {
    const id = await tx.articles.insert({
      slug: seed.slug,
      title: seed.title ?? seed.slug,
      description: seed.description ?? "a description",
      body: seed.body ?? "a body",
      authorId,
      now: seed.now ?? T0,
    });
    await tx.articles.setTags(id, seed.tags ?? []);
    await tx.articles.reindex(id);
    return id;
  });
}

export const page = (limit = 20, offset = 0) => ({ limit, offset });

/** SearchRepo.page with the reader's words (as src/lib/search-terms.ts cuts them). */
export const searchWords = (
  repo: SearchRepo,
  terms: readonly string[],
  filter: SearchFilter = {},
  p: Page = page(),
) => repo.page(terms, filter, p);

/** Every repository of the store (src/store/repos.ts) on one Postgres client: the pool, or a unit's transaction. */
import type { Repos } from "../../../store/repos.ts";
import { pgArticles } from "./articles.ts";
import { pgAudit } from "./audit.ts";
import { pgComments } from "./comments.ts";
import { pgFlags } from "./flags.ts";
import { pgHousekeeping } from "./housekeeping.ts";
import { pgJobs } from "./jobs.ts";
import { pgAccountData, pgAccountTokens } from "./lifecycle.ts";
import { pgProfiles } from "./profiles.ts";
import { pgSearch } from "./search.ts";
import type { SearchTokenizer } from "./search-text.ts";
import { pgSessions } from "./sessions.ts";
import type { PgDb } from "./shared.ts";
import { pgTags } from "./tags.ts";
import { pgUsers } from "./users.ts";
import { pgWebhooks } from "./webhooks.ts";

export type { PgDb } from "./shared.ts";

/** `tokenizer`: the store's (search entries and queries are made of SQLite's tokens, ./search-text.ts). */
export function createPostgresRepos(db: PgDb, tokenizer: SearchTokenizer): Repos {
  return {
    users: pgUsers(db),
    sessions: pgSessions(db),
    audit: pgAudit(db),
    accountTokens: pgAccountTokens(db),
    accountData: pgAccountData(db),
    profiles: pgProfiles(db),
    articles: pgArticles(db, tokenizer),
    comments: pgComments(db),
    tags: pgTags(db),
    search: pgSearch(db, tokenizer),
    jobs: pgJobs(db),
    webhooks: pgWebhooks(db),
    flags: pgFlags(db),
    housekeeping: pgHousekeeping(db),
  };
}

/** Every repository on one SQLite connection (the writer's, or a reader's). */
import type { Database } from "bun:sqlite";
import type { Repos } from "../../../store/repos.ts";
import type { SqliteDb } from "../client.ts";
import { sqliteArticles } from "./articles.ts";
import { sqliteAudit } from "./audit.ts";
import { sqliteComments } from "./comments.ts";
import { sqliteFlags } from "./flags.ts";
import { sqliteHousekeeping } from "./housekeeping.ts";
import { sqliteJobs } from "./jobs.ts";
import { sqliteAccountData, sqliteAccountTokens } from "./lifecycle.ts";
import { sqliteProfiles } from "./profiles.ts";
import { sqliteSearch } from "./search.ts";
import { sqliteSessions } from "./sessions.ts";
import { sqliteTags } from "./tags.ts";
import { sqliteUsers } from "./users.ts";
import { sqliteWebhooks } from "./webhooks.ts";

export function createSqliteRepos(db: SqliteDb, connection: Database): Repos {
  return {
    users: sqliteUsers(db),
    sessions: sqliteSessions(db),
    audit: sqliteAudit(db),
    accountTokens: sqliteAccountTokens(connection),
    accountData: sqliteAccountData(connection),
    profiles: sqliteProfiles(db),
    articles: sqliteArticles(db),
    comments: sqliteComments(db),
    tags: sqliteTags(db),
    search: sqliteSearch(db),
    jobs: sqliteJobs(db),
    webhooks: sqliteWebhooks(db),
    flags: sqliteFlags(db),
    housekeeping: sqliteHousekeeping(connection),
  };
}

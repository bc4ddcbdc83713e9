/** Every repository a unit of work or a read can use; each engine implements them all. */
import type { AuditRepo, SessionsRepo, UsersRepo } from "./accounts.ts";
import type { ArticlesRepo, CommentsRepo, ProfilesRepo, SearchRepo, TagsRepo } from "./content.ts";
import type { AccountDataRepo, AccountTokensRepo } from "./lifecycle.ts";
import type { FlagsRepo, HousekeepingRepo, JobsRepo, WebhooksRepo } from "./operations.ts";

export interface Repos {
  readonly users: UsersRepo;
  readonly sessions: SessionsRepo;
  readonly audit: AuditRepo;
  readonly accountTokens: AccountTokensRepo;
  readonly accountData: AccountDataRepo;
  readonly profiles: ProfilesRepo;
  readonly articles: ArticlesRepo;
  readonly comments: CommentsRepo;
  readonly tags: TagsRepo;
  readonly search: SearchRepo;
  readonly jobs: JobsRepo;
  readonly webhooks: WebhooksRepo;
  readonly flags: FlagsRepo;
  readonly housekeeping: HousekeepingRepo;
}

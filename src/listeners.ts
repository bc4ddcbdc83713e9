/**
 * Every reaction to a domain event, in one place, in the order it runs. "What happens after an article is
 * created?" is answered here: read down the list. Each handler may react at three points
 * (src/lib/event-bus.ts): inside the write's unit of work (`inTransaction`), after its commit on the
 * writing node (`afterCommit`), and after its commit on every node of a cluster (`everyNode`). All of them
 * run before the write is answered; on a cluster, the other nodes' `everyNode` handlers too (the writer
 * waits for their acknowledgements: src/infra/redis/bus.ts).
 */
import type { AppContext } from "./context.ts";
import { clearCaches } from "./modules/cache/index.ts";
import { invalidate } from "./modules/cache/invalidation.ts";
import { mailOutbox } from "./modules/mail/setup.ts";
import { webhookOutbox } from "./modules/webhooks/events.ts";

export function registerListeners(ctx: AppContext): void {
  const { events, caches, sessions, flags, realtime } = ctx;

  // 1. What each node keeps in memory follows every committed write, before anyone is answered (a cluster
  //    node that may have missed events, `missed`, drops or re-reads all of it):
  //    content caches (articles, profiles, lists, feeds, counts, tags; see the table in invalidation.ts),
  events.on({ everyNode: (e) => invalidate(caches, e), missed: () => clearCaches(caches) });
  //    session checks (ended sessions, changed roles take effect on the next request),
  events.on({ everyNode: (e) => sessions.onEvent(e), missed: () => sessions.cache.clear() });
  //    feature flags (re-read after a change),
  events.on({ everyNode: (e) => flags.onEvent(e), missed: () => flags.load() });
  //    and open sockets (those of ended sessions close with 4001; live feeds follow follows).
  events.on({ everyNode: (e) => realtime.onEvent(e), missed: () => realtime.missed() });

  // 2. Live updates: built inside the write (its rows can still be read: deletes emit before deleting),
  //    published once committed, in commit order.
  events.on({
    inTransaction: (tx, e) => realtime.prepare(tx, e),
    afterCommit: (e) => realtime.published(e),
  });

  // 3. The outbox: jobs enqueued in the write's unit of work (they exist exactly when it committed), and
  //    the workers woken after the commit: a welcome or account-change email, webhook deliveries.
  events.on(mailOutbox(ctx));
  events.on(webhookOutbox(ctx));
}

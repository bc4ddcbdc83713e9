/**
 * Session checks: is this session live, and as whom? Asked on every authenticated request and socket, so
 * answers are cached per session id for a few seconds. What makes a cached answer wrong is always a
 * committed write with an event (`sessions.ended`, `user.role_changed`, `user.email_verified`, a changed
 * address in `user.updated`), and `onEvent` drops the affected entries on every node before the write is
 * answered: revocation, role changes and verification apply on the very next request, never after the cache
 * expires. The TTL only bounds changes made without an event (none today).
 */
import type { DomainEvent } from "../../events.ts";
import { TtlCache } from "../../lib/cache.ts";
import type { Clock } from "../../lib/clock.ts";
import type { SessionCheck } from "../../store/accounts.ts";
import type { Store } from "../../store/store.ts";

export type SessionInfo = SessionCheck;

/** Session checks are re-read at least this often. */
const SESSION_TTL_MS = 10_000;
/**
 * lru-cache allocates its bookkeeping for `max` entries up front (about 44 bytes each): 20,000 sessions
 * active within 10 s is a busy server.
 */
const SESSION_MAX_ENTRIES = 20_000;

export class SessionChecks {
  readonly cache: TtlCache<string, SessionInfo>;
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(
    store: Store,
    clock: Clock,
    options: { ttlMs?: number; maxBytes?: number; trusted?: () => boolean } = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.cache = new TtlCache({
      name: "sessions",
      max: SESSION_MAX_ENTRIES,
      maxBytes: options.maxBytes ?? 2 * 1024 * 1024,
      ttlMs: Math.min(options.ttlMs ?? SESSION_TTL_MS, SESSION_TTL_MS),
      now: () => clock.now(),
      trusted: options.trusted,
      sizeOf: (_v, sid) => 64 + sid.length,
    });
  }

  /** The live session's user and role, or undefined if it ended, expired, or its user is suspended. */
  check(sid: string): SessionInfo | undefined | Promise<SessionInfo | undefined> {
    return this.cache.load(sid, () => this.#store.read.sessions.check(sid, this.#clock.now()));
  }

  /** Drop what a committed write made wrong (an everyNode listener: src/listeners.ts). */
  onEvent(event: DomainEvent): void {
    if (event.type === "sessions.ended") {
      for (const sid of event.sessionIds) this.cache.delete(sid);
    } else if (
      event.type === "user.role_changed" ||
      event.type === "user.email_verified" ||
      (event.type === "user.updated" && event.email.toLowerCase() !== event.previousEmail.toLowerCase())
    ) {
      const { userId } = event;
      this.cache.deleteWhere((session) => session.userId === userId);
    }
  }
}

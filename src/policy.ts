/**
 * The permission table: the one place that decides what each role may do. Every REST route and every
 * realtime topic asks `can(role, action)`; ownership ("their own article") is checked by the service after
 * the resource is found, so the answer order stays 401 → 404 → 403.
 *
 * viewer: read, comment, favorite, follow. editor: also write their own articles. admin: everything,
 * including moderating other people's articles and comments and the admin API.
 */
import { forbidden } from "./errors.ts";

export const roles = ["admin", "editor", "viewer"] as const;
export type Role = (typeof roles)[number];

const table = {
  "article:write": ["admin", "editor"],
  "article:moderate": ["admin"],
  "comment:write": ["admin", "editor", "viewer"],
  "comment:moderate": ["admin"],
  "favorite:write": ["admin", "editor", "viewer"],
  "follow:write": ["admin", "editor", "viewer"],
  "admin:access": ["admin"],
  // Realtime topics. The public ones (articles, articles:<slug>, profiles:<username>, tags:<tag>) need no
  // token, like the REST reads they mirror; the feed is per viewer, so it needs one.
  "realtime:feed": ["admin", "editor", "viewer"],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof table;

export function can(role: Role, action: Action): boolean {
  return (table[action] as readonly Role[]).includes(role);
}

/** For documentation and tests: the whole table. */
export const permissionTable: Readonly<Record<Action, readonly Role[]>> = table;

/**
 * REQUIRE_VERIFIED_EMAIL_TO_WRITE: an account whose address is not verified may read but not write (articles,
 * comments, favorites, follows, its public profile). Checked first by each of those services, before the
 * resource is looked up: it depends on the viewer alone. Signing in and out, the password, the address, the
 * verification itself, the export and leaving stay open, so an account can always fix its address or go.
 */
export function assertMayWrite(viewer: { emailVerified: boolean }, requireVerified: boolean): void {
  if (requireVerified && !viewer.emailVerified) throw unverifiedEmail();
}

export const UNVERIFIED_MESSAGE =
  "must be verified before this account can write: follow the link sent to it, or ask for a new one (POST /api/user/verification-email)";
export const unverifiedEmail = () => forbidden("email", UNVERIFIED_MESSAGE);

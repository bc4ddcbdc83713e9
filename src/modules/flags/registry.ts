/**
 * The feature flags Quire knows. A flag without a row in the `flags` table has its default; a row (written by
 * `PATCH /api/admin/flags/:name`) overrides the default; `QUIRE_FLAG_<NAME>=on|off` overrides both.
 *
 * Per-user flags roll out to a percentage of users chosen by a stable hash of (flag, user id); the others are
 * global switches whose percentage is always 100.
 */
export const flagDefinitions = {
  registration: {
    default: true,
    perUser: false,
    description: "Sign-up (`POST /api/users`). Off: 403 `registration is closed`.",
  },
  comments: {
    default: true,
    perUser: true,
    description: "Writing and deleting comments. Off (or outside the rollout): 403 `comments are disabled`.",
  },
  realtime: {
    default: true,
    perUser: true,
    description: "WebSocket live updates, checked when a socket connects.",
  },
  maintenance: {
    default: false,
    perUser: false,
    description:
      "Read-only mode: every write gets 503 with Retry-After; reads, sign-in and /api/admin stay available.",
  },
} as const satisfies Record<string, { default: boolean; perUser: boolean; description: string }>;

export type FlagName = keyof typeof flagDefinitions;

export const flagNames = Object.keys(flagDefinitions) as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(flagDefinitions, name);
}

/** The config variable that overrides a flag (validated in src/config.ts). */
export const overrideVar = (name: FlagName) => `QUIRE_FLAG_${name.toUpperCase()}` as const;

/**
 * `quire admin <create|promote|demote|list|reset-password>`: account administration from the shell, for
 * the first admin and for the admin who is locked out.
 *
 * Decisions:
 * - `create` never touches an existing account (a typo must not hand admin to someone else's account or
 *   reset its password); promoting one is the explicit `promote`, demoting `demote`, which refuses to
 *   demote the last active admin (the same rule as the admin API).
 * - `reset-password` sets a new password and ends every session of the account; the password comes from
 *   standard input, a no-echo prompt or is generated and printed once (see password.ts), never a log line.
 *   It does not reinstate a suspended account: `promote` does, for admins.
 * - Every change is in the audit log with `actor: null` and `via: "cli"`.
 *
 * Running beside a server: these commands open the same SQLite file. WAL lets the server keep reading and
 * the connection's busy_timeout waits out the server's write lock, so they are safe while it runs. What the
 * running server sees: it re-reads a session (live? which role?) at least every min(CACHE_TTL_MS, 10 s)
 * (src/modules/cache), so a demotion, promotion or reset-password's ended sessions apply to its HTTP
 * requests within that bound. WebSocket/SSE connections it holds are closed only by its own events, so a
 * connection opened before a reset-password lasts until it reconnects or its access token expires.
 */
import { Value } from "@sinclair/typebox/value";
import type { Config } from "../config.ts";
import { type AppContext, closeContext, createContext } from "../context.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../lib/logger.ts";
import { changeUser, listAccounts, resetPassword } from "../modules/admin/users.ts";
import { recordAuditNow } from "../modules/audit/service.ts";
import { RegisterBody } from "../modules/users/model.ts";
import { createUser } from "../modules/users/service.ts";
import type { Role } from "../policy.ts";
import { type Flags, UsageError } from "./command.ts";
import { type ChosenPassword, choosePassword, passwordProblem } from "./password.ts";
import { withConfig } from "./with-config.ts";

const roles = ["admin", "editor", "viewer"] as const;

const text = (flags: Flags, name: string) => (typeof flags[name] === "string" ? flags[name] : undefined);

function required(flags: Flags, name: string, command: string): string {
  const value = text(flags, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`, command);
  return value;
}

function fail(message: string): number {
  process.stderr.write(`quire admin: ${message}\n`);
  return 1;
}

/** Open the database, run `fn`, and turn the service's AppErrors (409, 404) into one line and exit 1. */
function withContext(flags: Flags, fn: (ctx: AppContext) => number | Promise<number>) {
  return withConfig(flags, async (config: Readonly<Config>, log: Logger) => {
    const ctx = await createContext(config, log);
    try {
      return await fn(ctx);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return fail(
        Object.entries(err.fields)
          .map(([k, v]) => `${k} ${v.join(", ")}`)
          .join("; "),
      );
    } finally {
      await closeContext(ctx);
    }
  });
}

/** Left-aligned columns, two spaces apart, a header first. */
function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

/** A generated password is the one thing printed that the operator must copy: once, on its own line. */
function showGenerated(chosen: ChosenPassword, username: string): void {
  if (chosen.generated) process.stdout.write(`password for ${username} (shown once): ${chosen.password}\n`);
}

async function create(flags: Flags): Promise<number> {
  const command = "admin create";
  const email = required(flags, "email", command);
  const username = required(flags, "username", command);
  const chosen = await choosePassword(flags, command);
  const input = { email, username, password: chosen.password };
  // Field problems as the API would report them, never echoing the password.
  const invalid = [...Value.Errors(RegisterBody.properties.user, input)].map((e) =>
    e.path === "/password"
      ? (passwordProblem(input.password) ?? "invalid password")
      : `--${e.path.slice(1)} is invalid`,
  );
  if (invalid.length > 0) throw new UsageError([...new Set(invalid)].join("; "), command);
  return withContext(flags, async (ctx) => {
    const user = await createUser(ctx, input, "admin");
    await recordAuditNow(ctx, {
      action: "user.admin_created",
      targetType: "user",
      targetId: user.id,
      detail: { via: "cli", username: user.username },
    });
    process.stdout.write(`created admin ${user.username} <${user.email}>\n`);
    showGenerated(chosen, user.username);
    return 0;
  });
}

function promote(flags: Flags): Promise<number> {
  const username = required(flags, "username", "admin promote");
  return withContext(flags, async (ctx) => {
    const { user } = await changeUser(ctx, null, username, { role: "admin", suspended: false });
    process.stdout.write(`${user.username} is now an admin\n`);
    return 0;
  });
}

function demote(flags: Flags): Promise<number> {
  const command = "admin demote";
  const username = required(flags, "username", command);
  const role = text(flags, "role");
  if (role !== undefined && role !== "editor" && role !== "viewer")
    throw new UsageError(`--role must be editor or viewer, got "${role}"`, command);
  return withContext(flags, async (ctx) => {
    const current = (await listAccounts(ctx, "admin")).find(
      (u) => u.username.toLowerCase() === username.toLowerCase(),
    );
    if (!current) return fail(`${username} is not an admin (or does not exist)`);
    const to: Role = role ?? ctx.config.DEFAULT_ROLE;
    // changeUser refuses (409) when this would leave no active admin, inside its transaction.
    const { user } = await changeUser(ctx, null, current.username, { role: to });
    process.stdout.write(`${user.username} is now ${user.role === "editor" ? "an editor" : "a viewer"}\n`);
    return 0;
  });
}

function list(flags: Flags): Promise<number> {
  const command = "admin list";
  const role = text(flags, "role") ?? "admin";
  if (role !== "all" && !(roles as readonly string[]).includes(role))
    throw new UsageError(`--role must be one of: all, ${roles.join(", ")}; got "${role}"`, command);
  return withContext(flags, async (ctx) => {
    const accounts = await listAccounts(ctx, role === "all" ? undefined : (role as Role));
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify(accounts.map(({ bio: _b, image: _i, ...a }) => a))}\n`);
      return 0;
    }
    if (accounts.length === 0) {
      process.stdout.write(role === "all" ? "no accounts\n" : `no accounts with role ${role}\n`);
      return 0;
    }
    const rows = accounts.map((u) => [u.username, u.email, u.role, u.suspended ? "yes" : "no", u.createdAt]);
    process.stdout.write(formatTable(["USERNAME", "EMAIL", "ROLE", "SUSPENDED", "CREATED"], rows));
    return 0;
  });
}

async function reset(flags: Flags): Promise<number> {
  const command = "admin reset-password";
  const username = required(flags, "username", command);
  const chosen = await choosePassword(flags, command);
  const problem = passwordProblem(chosen.password);
  if (problem) throw new UsageError(problem, command);
  return withContext(flags, async (ctx) => {
    const { user, sessionsEnded } = await resetPassword(ctx, null, username, chosen.password);
    process.stdout.write(`password of ${user.username} reset; ${sessionsEnded} session(s) ended\n`);
    showGenerated(chosen, user.username);
    return 0;
  });
}

/** The subcommands, loaded when `quire admin <subcommand>` runs (the table is in ./admin-command.ts). */
export const adminSubcommands = { create, promote, demote, list, "reset-password": reset };

/**
 * `quire admin create --email E --username U --password P`: create an admin account.
 * `quire admin promote --username U`: make an existing account admin (and reinstate it if suspended).
 *
 * Decision: `create` never touches an existing account (a typo must not hand admin to someone else's
 * account or reset its password); promoting one is the explicit `promote`. `--password -` reads the
 * password from standard input, keeping it out of `ps` and shell history.
 *
 * Both run against the same SQLite file while the server runs: WAL lets the server keep reading, and the
 * connection's busy_timeout waits out the server's write lock. A running server applies a promotion within
 * its session-cache lifetime (a few seconds); suspensions and demotions belong to the admin API, which
 * applies them at once.
 */
import { Value } from "@sinclair/typebox/value";
import type { Config } from "../config.ts";
import { closeContext, createContext } from "../context.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../lib/logger.ts";
import { changeUser } from "../modules/admin/users.ts";
import { recordAudit } from "../modules/audit/service.ts";
import { RegisterBody } from "../modules/users/model.ts";
import { createUser } from "../modules/users/service.ts";

export interface AdminArgs {
  email?: string;
  username?: string;
  password?: string;
}

export const adminUsage = [
  "create --email <e> --username <u> --password <p|->   create an admin account (- reads stdin)",
  "promote --username <u>                               make an existing account admin",
];

function fail(message: string, code = 1): number {
  process.stderr.write(`quire admin: ${message}\n`);
  return code;
}

async function readPassword(value: string): Promise<string> {
  if (value !== "-") return value;
  return (await Bun.stdin.text()).replace(/\r?\n$/, "");
}

/** Field problems, as the API would report them, without ever echoing the password. */
function problems(input: Required<AdminArgs>): string[] {
  return [...Value.Errors(RegisterBody.properties.user, input)].map(
    (e) => `--${e.path.slice(1)} ${e.path === "/password" ? "must be 8 to 256 characters" : "is invalid"}`,
  );
}

export async function admin(config: Readonly<Config>, log: Logger, sub: string | undefined, args: AdminArgs) {
  if (sub !== "create" && sub !== "promote")
    return fail(`expected create or promote\n  ${adminUsage.join("\n  ")}`, 2);
  if (!args.username) return fail("--username is required", 2);
  if (sub === "create" && (!args.email || args.password === undefined))
    return fail("create needs --email, --username and --password", 2);

  const ctx = createContext(config, log);
  try {
    if (sub === "create") {
      const input = {
        email: args.email!,
        username: args.username,
        password: await readPassword(args.password!),
      };
      const invalid = problems(input);
      if (invalid.length > 0) return fail(invalid.join("; "), 2);
      const user = await createUser(ctx, input, "admin");
      recordAudit(ctx, {
        action: "user.admin_created",
        targetType: "user",
        targetId: user.id,
        detail: { via: "cli", username: user.username },
      });
      process.stdout.write(`created admin ${user.username} <${user.email}>\n`);
      return 0;
    }
    const { user } = changeUser(ctx, null, args.username, { role: "admin", suspended: false });
    process.stdout.write(`${user.username} is now an admin\n`);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      return fail(
        Object.entries(err.fields)
          .map(([k, v]) => `${k} ${v.join(", ")}`)
          .join("; "),
      );
    }
    throw err;
  } finally {
    closeContext(ctx);
  }
}

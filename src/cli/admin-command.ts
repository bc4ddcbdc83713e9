/**
 * The `quire admin` command table: summaries, flags and help, with each subcommand's implementation
 * (./admin.ts, which opens the database) loaded only when it runs, so `quire admin --help` evaluates nothing
 * but this.
 */
import { type Command, type Flags, passwordHelp, passwordOptions, storage, storageHelp } from "./command.ts";

type Name = "create" | "promote" | "demote" | "list" | "reset-password";

const sub = (name: Name, summary: string, options: Command["options"], flagHelp: string[]): Command => ({
  summary,
  options: { ...options, ...storage },
  flagHelp: [...flagHelp, ...storageHelp],
  run: async (flags: Flags) => (await import("./admin.ts")).adminSubcommands[name](flags),
});

const username = { username: { type: "string" } } as const;
const usernameHelp = "--username <u>       the account (any letter case)";

export const adminCommand: Command = {
  summary: "manage accounts: create, promote, demote, list, reset-password; safe while the server runs",
  options: storage,
  flagHelp: storageHelp,
  subcommands: {
    create: sub(
      "create",
      "create an admin account",
      { email: { type: "string" }, ...username, ...passwordOptions },
      ["--email <e>          its email", "--username <u>       its username", ...passwordHelp],
    ),
    promote: sub("promote", "make an existing account admin (and reinstate it if suspended)", username, [
      usernameHelp,
    ]),
    demote: sub(
      "demote",
      "make an admin an editor or viewer again; refuses to demote the last active admin",
      { ...username, role: { type: "string" } },
      [usernameHelp, "--role <r>           editor | viewer (default: DEFAULT_ROLE)"],
    ),
    list: sub(
      "list",
      "list admins (or every account of a role) as a table: no passwords, no tokens",
      { role: { type: "string" }, json: { type: "boolean" } },
      [
        "--role <r>           admin (default) | editor | viewer | all",
        "--json               one JSON array instead of the table",
      ],
    ),
    "reset-password": sub(
      "reset-password",
      "set a new password for an account and end all its sessions",
      { ...username, ...passwordOptions },
      [usernameHelp, ...passwordHelp],
    ),
  },
};

/**
 * Where `quire admin create` and `quire admin reset-password` get a password, keeping it out of `ps`, shell
 * history and logs wherever the operator lets us:
 *   --password -          one line from standard input (scripts, `docker exec -i`);
 *   --generate-password   a random one, printed once on standard output and never stored in clear;
 *   (neither, on a terminal) a prompt without echo, asked twice;
 *   --password <p>        the value itself (visible to other local users in `ps`: for throwaway setups).
 */
import { randomBytes } from "node:crypto";
import { limits } from "../http/model.ts";
import { type Flags, UsageError } from "./command.ts";

export interface ChosenPassword {
  password: string;
  /** Generated here: the caller prints it once. */
  generated: boolean;
}

/** Same bounds as registration; the message never echoes the value. */
export function passwordProblem(password: string): string | undefined {
  const n = [...password].length;
  return n < limits.passwordMin || n > limits.passwordMax
    ? `the password must be ${limits.passwordMin} to ${limits.passwordMax} characters`
    : undefined;
}

/** Reads the password as the flags say (see the header). Throws UsageError when none can be had. */
export async function choosePassword(flags: Flags, command: string): Promise<ChosenPassword> {
  const given = typeof flags.password === "string" ? flags.password : undefined;
  const generate = flags["generate-password"] === true;
  if (given !== undefined && generate)
    throw new UsageError("give either --password or --generate-password, not both", command);
  if (generate) return { password: randomBytes(18).toString("base64url"), generated: true };
  if (given === "-") return { password: (await Bun.stdin.text()).replace(/\r?\n$/, ""), generated: false };
  if (given !== undefined) return { password: given, generated: false };
  if (!process.stdin.isTTY)
    throw new UsageError(
      "needs a password: --password - (standard input), --generate-password, or a terminal to prompt on",
      command,
    );
  const [first, second] = await promptHidden(["New password: ", "Repeat it: "]);
  if (first !== second) throw new UsageError("the two passwords differ", command);
  return { password: first!, generated: false };
}

/**
 * One line from the terminal per question, not echoed. Ctrl-C exits 130 (nothing was opened yet); backspace
 * edits. One listener for all the questions: a chunk holding several lines (typed ahead, or pasted) keeps
 * its later lines for the later questions.
 */
function promptHidden(questions: string[]): Promise<string[]> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(questions[0]!);
  return new Promise((resolve) => {
    const answers: string[] = [];
    let value = "";
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\u0003") {
          stop();
          process.exit(130);
        }
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          answers.push(value);
          value = "";
          process.stderr.write("\n");
          if (answers.length === questions.length) {
            stop();
            return resolve(answers);
          }
          process.stderr.write(questions[answers.length]!);
        } else if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    const stop = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on("data", onData);
  });
}

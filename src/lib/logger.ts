/**
 * Structured JSON logs (pino). Secrets are redacted by path so that a careless `log.info({ body })` cannot
 * write a password or token to disk. On a terminal outside production the same records are pretty-printed
 * by pino-pretty used as a plain stream in this thread: pino's transports run in a worker thread that
 * loads modules by name at run time, which the single compiled binary cannot do.
 */
import pino from "pino";

export type Logger = pino.Logger;

export const redactPaths = [
  "password",
  "*.password",
  "*.*.password",
  "token",
  "*.token",
  "refreshToken",
  "*.refreshToken",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.cookie",
];

export interface LoggerOptions {
  /** Human-readable, coloured lines instead of JSON (for a developer's terminal). */
  pretty?: boolean;
}

/** Pretty output only where a person reads it: a terminal, and never in production. */
export function wantsPrettyLogs(nodeEnv: string, isTty = process.stdout.isTTY === true): boolean {
  return isTty && nodeEnv !== "production";
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  options: LoggerOptions = {},
): Logger {
  const stream =
    destination ??
    (options.pretty
      ? // Required only when used: servers (no terminal) never evaluate pino-pretty at start-up.
        (require("pino-pretty") as { default: typeof import("pino-pretty") }).default({
          sync: true,
          colorize: true,
          translateTime: "SYS:HH:MM:ss.l",
          ignore: "pid,hostname",
        })
      : // Synchronous writes: a line logged just before an exit or a crash (the "stopped" line, a fatal
        // error) is never lost in a buffer. Measured in bench/: the cost is one write(2) per line.
        pino.destination({ fd: 1, sync: true }));
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

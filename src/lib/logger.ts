/**
 * Structured JSON logs (pino). Secrets are redacted by path so that a careless `log.info({ body })` cannot
 * write a password or token to disk.
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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

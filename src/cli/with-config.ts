/**
 * Running a command with its configuration: flags applied as environment overrides, the configuration
 * validated once (exit 2 naming every problem), a logger at the configured level, and the logger drained
 * before the process exits.
 */
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { createLogger, type Logger, wantsPrettyLogs } from "../lib/logger.ts";
import { type Flags, flagVars, UsageError } from "./command.ts";

/**
 * Validate the environment (with flag overrides), then run `fn` with a logger at the configured level.
 * Only a command that signs tokens (`serve`) reads JWT_SECRET: see LoadOptions in src/config.ts.
 */
export type WithConfig = (
  flags: Flags,
  fn: (config: Readonly<Config>, log: Logger) => number | Promise<number>,
  options?: { signsTokens?: boolean },
) => Promise<number>;

export const withConfig: WithConfig = async (flags, fn, options = {}) => {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [flag, name] of Object.entries(flagVars)) {
    if (typeof flags[flag] === "string") env[name] = flags[flag];
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig(env, { signsTokens: options.signsTokens ?? false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`quire: ${err.message}\n`);
    return 2;
  }
  const log = createLogger(config.LOG_LEVEL, undefined, { pretty: wantsPrettyLogs(config.NODE_ENV) });
  try {
    return await fn(config, log);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    log.fatal({ err }, "failed");
    return 1;
  } finally {
    // The logger writes asynchronously; drain it before the caller exits the process.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
};

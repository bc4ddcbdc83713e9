/**
 * Statements are prepared on first use, not when the store opens: a process that never lists users (the
 * CLI, a server answering from its caches) never pays for preparing those statements.
 */
export function lazy<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

/** A JSON array parameter, for `… IN (SELECT value FROM json_each(?))`: one statement for any number of ids. */
export const jsonList = (values: readonly unknown[]) => JSON.stringify(values);

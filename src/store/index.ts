export * from "./accounts.ts";
export * from "./content.ts";
export * from "./errors.ts";
export * from "./operations.ts";
export * from "./repos.ts";
export * from "./store.ts";

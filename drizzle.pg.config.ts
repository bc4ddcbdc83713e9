import { defineConfig } from "drizzle-kit";

// The Postgres twin of drizzle.config.ts: drizzle-kit only generates SQL here; the server applies the
// migrations itself at start-up under an advisory lock (src/infra/postgres/migrate.ts), from the copy
// embedded in the binary. `bun run db:generate` runs both configs.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/infra/postgres/schema.ts",
  out: "./drizzle/pg",
  strict: true,
  verbose: false,
});

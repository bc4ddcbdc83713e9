import { defineConfig } from "drizzle-kit";

// drizzle-kit only generates SQL here; migrations are applied by the server
// itself at start-up (src/infra/sqlite/migrate.ts), from the copy embedded in the binary.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/infra/sqlite/schema.ts",
  out: "./drizzle/sqlite",
  strict: true,
  verbose: false,
});

import { defineConfig } from "drizzle-kit";

// drizzle-kit only generates SQL here; migrations are applied by the server
// itself at start-up (src/db/migrate.ts), from the copy embedded in the binary.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  strict: true,
  verbose: false,
});

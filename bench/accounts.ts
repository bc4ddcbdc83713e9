/**
 * The account lifecycle's two costs worth knowing, on a WAL SQLite file with the server's pragmas:
 *
 * 1. Enumeration by timing: POST /api/users/password-reset for an address with an account and for one
 *    without, interleaved, in-process (no network noise). Both do one lookup and one unit of work with an
 *    audit row; the known address also enqueues the email job in that unit. Prints both distributions and
 *    their difference.
 * 2. Deleting a large account: one unit of work that emits an event per article, comment and favourite.
 *    Prints how long the unit held the writer.
 *
 *   bun bench/accounts.ts [--requests 2000] [--articles 1000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/context.ts";
import { createLogger } from "../src/lib/logger.ts";
import { deleteAccount } from "../src/modules/accounts/service.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { requests: { type: "string", default: "2000" }, articles: { type: "string", default: "1000" } },
});
const N = Number(values.requests);
const ARTICLES = Number(values.articles);
const dir = mkdtempSync(join(tmpdir(), "quire-bench-accounts-"));

const config = loadConfig({
  NODE_ENV: "test",
  DATABASE_URL: join(dir, "quire.db"),
  JWT_SECRET: "bench-secret-0123456789-abcdefghij-KLMNOPQ",
  PASSWORD_MEMORY_COST_KIB: "8",
  PASSWORD_TIME_COST: "1",
  LOG_LEVEL: "silent",
});
const ctx = await createContext(config, createLogger("silent"));
const app = createApp(ctx);

const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Token ${token}`;
  const res = await app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
};

const register = async (name: string) => {
  const res = await call("POST", "/api/users", {
    user: { username: name, email: `${name}@example.com`, password: "correct horse battery" },
  });
  return res.json.user.token as string;
};

// 1. Known versus unknown address.
for (let i = 0; i < 50; i++) await register(`reader${i}`);
const known = "reader7@example.com";
const unknown = "nobody-here@example.com";
const samples: Record<"known" | "unknown", number[]> = { known: [], unknown: [] };
const ask = async (email: string) => {
  const t0 = performance.now();
  const res = await call("POST", "/api/users/password-reset", { user: { email } });
  const ms = performance.now() - t0;
  if (res.status !== 202) throw new Error(`password-reset: ${res.status}`);
  return ms;
};
for (let i = 0; i < 200; i++) await ask(i % 2 ? known : unknown); // warm-up
for (let i = 0; i < N; i++) {
  // Alternate which goes first, so neither always follows the other.
  const order: ("known" | "unknown")[] = i % 2 ? ["known", "unknown"] : ["unknown", "known"];
  for (const which of order) samples[which].push(await ask(which === "known" ? known : unknown));
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
console.log(`POST /api/users/password-reset, ${N} each, interleaved (in-process, WAL file):`);
console.log("| address | median | p90 | p99 | mean |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const which of ["known", "unknown"] as const) {
  const xs = samples[which];
  console.log(
    `| ${which} | ${us(pct(xs, 0.5))} | ${us(pct(xs, 0.9))} | ${us(pct(xs, 0.99))} | ${us(mean(xs))} |`,
  );
}
const diff = pct(samples.known, 0.5) - pct(samples.unknown, 0.5);
console.log(
  `difference of medians: ${us(diff)} (${((diff / pct(samples.unknown, 0.5)) * 100).toFixed(1)} %)`,
);

// 2. Deleting an account with ARTICLES articles, as many comments and favourites on someone else's articles.
const other = await register("other_author");
const otherSlugs: string[] = [];
for (let i = 0; i < Math.min(ARTICLES, 200); i++) {
  const res = await call(
    "POST",
    "/api/articles",
    { article: { title: `Other ${i}`, description: "d", body: "b" } },
    other,
  );
  otherSlugs.push(res.json.article.slug);
}
const doomed = await register("doomed");
for (let i = 0; i < ARTICLES; i++) {
  await call(
    "POST",
    "/api/articles",
    { article: { title: `Mine ${i}`, description: "d", body: "b".repeat(2000), tagList: ["bench"] } },
    doomed,
  );
  const slug = otherSlugs[i % otherSlugs.length]!;
  await call("POST", `/api/articles/${slug}/comments`, { comment: { body: `comment ${i}` } }, doomed);
  if (i < otherSlugs.length) await call("POST", `/api/articles/${slug}/favorite`, undefined, doomed);
}
const id = ctx.store.read.users.byUsername("doomed");
const user = (await id)!;
const t0 = performance.now();
await deleteAccount(ctx, { id: user.id }, "correct horse battery");
const deletionMs = performance.now() - t0;
console.log(
  `\ndeleting an account with ${ARTICLES} articles, ${ARTICLES} comments elsewhere and ${otherSlugs.length} favourites: ${deletionMs.toFixed(0)} ms (one unit of work, password check included)`,
);

await ctx.store.close();
rmSync(dir, { recursive: true, force: true });

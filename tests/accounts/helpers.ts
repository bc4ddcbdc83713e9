/**
 * The account-lifecycle tests: the in-process app with its mail going over real SMTP to a test server, and
 * the steps every flow repeats (ask, let the job send, read the token out of the message).
 */
import { afterAll } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { type ReceivedMail, startSmtp, type TestSmtp, tokenIn } from "../helpers/smtp.ts";

export const RESET_SUBJECT = "Reset your Quire password";
export const VERIFY_SUBJECT = "Confirm your email address for Quire";
export const WELCOME_SUBJECT = "Welcome to Quire";

export interface MailApp extends TestApp {
  smtp: TestSmtp;
}

const servers: TestSmtp[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A test app whose mailer speaks SMTP to a fresh test server (closed after the file's tests). */
export async function mailApp(overrides: Record<string, string> = {}): Promise<MailApp> {
  const smtp = await startSmtp();
  servers.push(smtp);
  const t = await createTestApp({ SMTP_URL: smtp.url, ...overrides });
  return { ...t, smtp };
}

/** Run the due jobs (the workers do not run in-process) so queued mail goes out. */
export async function deliver(t: TestApp): Promise<void> {
  await t.ctx.jobs.runDue();
}

/** Every message to `address` with `subject`, oldest first. */
export const mailsTo = (t: MailApp, address: string, subject: string): ReceivedMail[] =>
  t.smtp.received.filter((m) => m.to.includes(address) && m.subject === subject);

/** The token of the newest message to `address` with `subject`. */
export function lastToken(t: MailApp, address: string, subject: string): string {
  const mail = mailsTo(t, address, subject).at(-1);
  if (!mail) throw new Error(`no "${subject}" to ${address}`);
  return tokenIn(mail);
}

/** Ask for a reset of `email`, send the mail, and return the token it carries. */
export async function resetToken(t: MailApp, email: string): Promise<string> {
  const res = await t.request("POST", "/api/users/password-reset", { body: { user: { email } } });
  if (res.status !== 202) throw new Error(`password-reset: ${res.status} ${res.text}`);
  await deliver(t);
  return lastToken(t, email, RESET_SUBJECT);
}

/** The verification token of the welcome email sent on registration. */
export async function welcomeToken(t: MailApp, email: string): Promise<string> {
  await deliver(t);
  return lastToken(t, email, WELCOME_SUBJECT);
}

export const confirmReset = (t: TestApp, token: string, password: string) =>
  t.request("POST", "/api/users/password-reset/confirm", { body: { token, password } });

export const verify = (t: TestApp, token: string) =>
  t.request("POST", "/api/users/verify-email", { body: { token } });

export const badToken = { errors: { token: ["is invalid or has expired"] } };

/** The app's tables (not the search index's internals or the migrations' bookkeeping), by name. */
export async function tableNames(t: TestApp): Promise<string[]> {
  const list =
    t.engine === "sqlite"
      ? "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'articles_fts%' and name not like '__drizzle%'"
      : "select tablename as name from pg_tables where schemaname = 'public'";
  return (await t.db.all<{ name: string }>(`${list} order by name`)).map((r) => r.name);
}

/**
 * Rows whose foreign key points at nothing, and search entries without their article. SQLite checks its
 * foreign keys on demand (`pragma foreign_key_check`) and its FTS5 index has no key to enforce; Postgres
 * enforces both at every statement (articles_search.article_id is a foreign key), so this asks it for the
 * search entries only, which must be none all the same.
 */
export async function orphans(t: TestApp): Promise<unknown[]> {
  if (t.engine === "sqlite")
    return [
      ...(await t.db.all("pragma foreign_key_check")),
      ...(await t.db.all("select rowid from articles_fts where rowid not in (select id from articles)")),
    ];
  return t.db.all("select article_id from articles_search where article_id not in (select id from articles)");
}

/** The jobs whose JSON payload names `userId` (parsed here: the engines spell JSON paths differently). */
export async function jobsNaming(t: TestApp, userId: number): Promise<unknown[]> {
  const all = await t.db.all<{ id: number; payload: string }>("select id, payload from jobs");
  return all.filter((j) => (JSON.parse(j.payload) as { userId?: unknown }).userId === userId);
}

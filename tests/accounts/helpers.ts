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

/**
 * The mailer: `log` transport by default (the message is written to the log, for development and tests) or
 * SMTP through nodemailer when SMTP_URL is set. SMTP_URL may carry a password: it is never logged.
 *
 * Every message carries a Message-ID derived from the job that sends it, so a message re-sent after a crash
 * (the queue runs jobs at least once) has the same id, and receiving systems can drop the duplicate.
 */
import type { Config } from "../../config.ts";
import type { Logger } from "../../lib/logger.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** `<…@…>`; stable per job. */
  messageId: string;
}

export interface Mailer {
  readonly transport: "log" | "smtp";
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** The messages Quire sends never contain secrets (no tokens, no links that sign in), so logging them is safe. */
function logMailer(log: Logger): Mailer {
  return {
    transport: "log",
    async send(message) {
      log.info({ mail: message }, "mail sent (log transport)");
    },
    close() {},
  };
}

function smtpMailer(config: Readonly<Config>, log: Logger): Mailer {
  // Loaded on demand: deployments without SMTP never pay for nodemailer at start-up.
  const transporter = import("nodemailer").then((nodemailer) =>
    nodemailer.createTransport({
      url: config.SMTP_URL,
      // nodemailer waits up to two minutes by default; a stuck server should fail the job and let it retry.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    }),
  );
  return {
    transport: "smtp",
    async send(message) {
      const t = await transporter;
      await t.sendMail({ from: config.MAIL_FROM, ...message });
      log.info(
        { mail: { to: message.to, subject: message.subject, messageId: message.messageId } },
        "mail sent",
      );
    },
    close() {
      void transporter.then((t) => t.close());
    },
  };
}

export function createMailer(config: Readonly<Config>, log: Logger): Mailer {
  return config.SMTP_URL === "" ? logMailer(log) : smtpMailer(config, log);
}

/** `<quire.job-42@example.com>`, the domain taken from MAIL_FROM. */
export function messageIdFor(jobId: number, mailFrom: string): string {
  const domain = /@([A-Za-z0-9.-]+)/.exec(mailFrom)?.[1] ?? "quire.invalid";
  return `<quire.job-${jobId}@${domain}>`;
}

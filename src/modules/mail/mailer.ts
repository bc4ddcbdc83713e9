/**
 * The mailer: `log` transport by default (the message is written to the log, for development and tests) or
 * SMTP through nodemailer when SMTP_URL is set. SMTP_URL may carry a password: it is never logged.
 *
 * Password-reset and verification emails carry a one-time token (`secrets`). SMTP delivers it; the log
 * transport writes the message with every secret replaced by `[redacted]`, so a token never reaches a log
 * (the flows then need SMTP: point SMTP_URL at a local catcher such as Mailpit in development).
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
  /** One-time tokens in `text`: sent, never logged. */
  secrets?: readonly string[];
}

export const REDACTED = "[redacted]";

/** The message as it may be logged: no secrets, and no list of them. */
function loggable({ secrets = [], ...message }: MailMessage): Omit<MailMessage, "secrets"> {
  let text = message.text;
  for (const secret of secrets) if (secret !== "") text = text.replaceAll(secret, REDACTED);
  return { ...message, text };
}

export interface Mailer {
  readonly transport: "log" | "smtp";
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** Writes each message to the log, its secrets redacted. */
function logMailer(log: Logger): Mailer {
  return {
    transport: "log",
    async send(message) {
      log.info({ mail: loggable(message) }, "mail sent (log transport)");
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
      const { secrets: _, ...mail } = message;
      await t.sendMail({ from: config.MAIL_FROM, ...mail });
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

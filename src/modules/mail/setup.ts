/**
 * Email through the job queue (outbox): the welcome email on registration and the notices on a password or
 * email change are enqueued in the transaction of the write that causes them, and sent by a worker. The
 * payload holds the user id, and the address is read when the job runs; except that account-change notices
 * go to the address on file *before* the change (someone who took over the account and changed the address
 * must not be the only one told), so that address is kept in the payload until the job is purged.
 */
import type { AppContext } from "../../context.ts";
import type { DomainEvent } from "../../events.ts";
import type { EventHandler } from "../../lib/event-bus.ts";
import type { Job } from "../../lib/queue.ts";
import type { WriteTx } from "../../store/store.ts";
import { createMailer, type Mailer, messageIdFor } from "./mailer.ts";
import { emailChangedEmail, passwordChangedEmail, welcomeEmail } from "./templates.ts";

export const MAIL_WELCOME = "mail.welcome";
export const MAIL_PASSWORD_CHANGED = "mail.password-changed";
export const MAIL_EMAIL_CHANGED = "mail.email-changed";

interface MailPayload {
  userId: number;
  /** When the account changed (epoch ms). */
  at?: number;
  /** Account-change notices: the address before the change (the recipient), and the new one. */
  to?: string;
  newEmail?: string;
}

export function setupMail(ctx: AppContext, mailer: Mailer = createMailer(ctx.config, ctx.log)): Mailer {
  const send = async (
    job: Job<MailPayload>,
    compose: (username: string) => { subject: string; text: string },
  ) => {
    const user = await ctx.store.read.users.byId(job.payload.userId);
    if (!user) return; // the account was deleted meanwhile: nobody to write to
    const messageId = messageIdFor(job.id, ctx.config.MAIL_FROM);
    await mailer.send({ to: job.payload.to ?? user.email, messageId, ...compose(user.username) });
  };
  ctx.jobs.register<MailPayload>(MAIL_WELCOME, (job) => send(job, welcomeEmail));
  ctx.jobs.register<MailPayload>(MAIL_PASSWORD_CHANGED, (job) =>
    send(job, (name) => passwordChangedEmail(name, new Date(job.payload.at ?? ctx.clock.now()))),
  );
  ctx.jobs.register<MailPayload>(MAIL_EMAIL_CHANGED, (job) =>
    send(job, (name) =>
      emailChangedEmail(name, new Date(job.payload.at ?? ctx.clock.now()), job.payload.newEmail ?? ""),
    ),
  );

  return mailer;
}

/** The outbox: mail jobs enqueued in the unit of work of the change they report; workers woken after. */
export function mailOutbox(ctx: AppContext): EventHandler<DomainEvent, WriteTx> {
  return {
    async inTransaction(tx, e) {
      if (e.type === "user.created") {
        await ctx.jobs.enqueue(
          tx,
          MAIL_WELCOME,
          { userId: e.userId },
          { uniqueKey: `mail.welcome:${e.userId}` },
        );
      } else if (e.type === "user.updated") {
        const at = ctx.clock.now();
        const to = e.previousEmail;
        if (e.passwordChanged)
          await ctx.jobs.enqueue(tx, MAIL_PASSWORD_CHANGED, { userId: e.userId, at, to });
        if (e.email.toLowerCase() !== to.toLowerCase()) {
          await ctx.jobs.enqueue(tx, MAIL_EMAIL_CHANGED, { userId: e.userId, at, to, newEmail: e.email });
        }
      }
    },
    afterCommit(e) {
      if (e.type === "user.created" || e.type === "user.updated") ctx.jobs.wake();
    },
  };
}

/**
 * Email through the job queue (outbox): the welcome email on registration and the notice on a password
 * change are enqueued in the transaction of the write that causes them, and sent by a worker. The payload holds
 * only the user id; the address is read when the job runs, so no address sits in the jobs table.
 */
import type { AppContext } from "../../context.ts";
import type { Job } from "../../lib/queue.ts";
import { createMailer, type Mailer, messageIdFor } from "./mailer.ts";
import { passwordChangedEmail, welcomeEmail } from "./templates.ts";

export const MAIL_WELCOME = "mail.welcome";
export const MAIL_PASSWORD_CHANGED = "mail.password-changed";

interface MailPayload {
  userId: number;
  /** When the password changed (epoch ms). */
  at?: number;
}

function recipient(ctx: AppContext, userId: number) {
  return ctx.sqlite
    .query<{ username: string; email: string }, [number]>("SELECT username, email FROM users WHERE id = ?")
    .get(userId);
}

export function setupMail(ctx: AppContext, mailer: Mailer = createMailer(ctx.config, ctx.log)): Mailer {
  const send = async (
    job: Job<MailPayload>,
    compose: (username: string) => { subject: string; text: string },
  ) => {
    const user = recipient(ctx, job.payload.userId);
    if (!user) return; // the account was deleted meanwhile: nobody to write to
    const messageId = messageIdFor(job.id, ctx.config.MAIL_FROM);
    await mailer.send({ to: user.email, messageId, ...compose(user.username) });
  };
  ctx.jobs.register<MailPayload>(MAIL_WELCOME, (job) => send(job, welcomeEmail));
  ctx.jobs.register<MailPayload>(MAIL_PASSWORD_CHANGED, (job) =>
    send(job, (name) => passwordChangedEmail(name, new Date(job.payload.at ?? ctx.clock.now()))),
  );

  ctx.events.on({
    inTransaction(_tx, e) {
      if (e.type === "user.created") {
        ctx.jobs.enqueue(MAIL_WELCOME, { userId: e.userId }, { uniqueKey: `mail.welcome:${e.userId}` });
      } else if (e.type === "user.updated" && e.passwordChanged) {
        ctx.jobs.enqueue(MAIL_PASSWORD_CHANGED, { userId: e.userId, at: ctx.clock.now() });
      }
    },
    afterCommit(e) {
      if (e.type === "user.created" || (e.type === "user.updated" && e.passwordChanged)) ctx.jobs.wake();
    },
  });
  return mailer;
}

/**
 * Email through the job queue (outbox): the welcome email on registration (with the link that verifies the
 * address), the notices on a password or email change, verification links (a changed address, or asked for
 * again) and password-reset links are enqueued in the transaction of the write that causes them, and sent by
 * a worker. The payload holds the user id, and the address is read when the job runs; except that
 * account-change notices go to the address on file *before* the change (someone who took over the account and
 * changed the address must not be the only one told), so that address is kept in the payload until the job
 * is purged, or the account deleted (its mail jobs go with it).
 *
 * One-time links are made by the job as it sends (src/modules/accounts/tokens.ts): no token ever sits in a
 * job's payload, and a job that runs twice sends two working links rather than one the database cannot check.
 */
import type { AppContext } from "../../context.ts";
import type { DomainEvent } from "../../events.ts";
import type { EventHandler } from "../../lib/event-bus.ts";
import type { Job } from "../../lib/queue.ts";
import type { WriteTx } from "../../store/store.ts";
import { issueAccountToken } from "../accounts/service.ts";
import type { UserRow } from "../users/service.ts";
import { createMailer, type Mailer, messageIdFor } from "./mailer.ts";
import {
  emailChangedEmail,
  passwordChangedEmail,
  passwordResetEmail,
  verifyEmailEmail,
  welcomeEmail,
} from "./templates.ts";

export const MAIL_WELCOME = "mail.welcome";
export const MAIL_PASSWORD_CHANGED = "mail.password-changed";
export const MAIL_EMAIL_CHANGED = "mail.email-changed";
export const MAIL_VERIFY_EMAIL = "mail.verify-email";
export const MAIL_PASSWORD_RESET = "mail.password-reset";
/** Every mail job: all of them name the account in `payload.userId`. */
export const MAIL_JOBS = [
  MAIL_WELCOME,
  MAIL_PASSWORD_CHANGED,
  MAIL_EMAIL_CHANGED,
  MAIL_VERIFY_EMAIL,
  MAIL_PASSWORD_RESET,
] as const;

interface Composed {
  subject: string;
  text: string;
  secrets?: string[];
}

interface MailPayload {
  /** null: a reset asked for an address without an account (the job sends nothing; see accounts/service.ts). */
  userId: number | null;
  /** When the account changed (epoch ms). */
  at?: number;
  /** Account-change notices: the address before the change (the recipient), and the new one. */
  to?: string;
  newEmail?: string;
}

export function setupMail(ctx: AppContext, mailer: Mailer = createMailer(ctx.config, ctx.log)): Mailer {
  /** `compose` answers undefined when there is nothing (left) to send. */
  const send = async (
    job: Job<MailPayload>,
    compose: (user: UserRow) => Composed | undefined | Promise<Composed | undefined>,
  ) => {
    if (job.payload.userId === null) return;
    const user = await ctx.store.read.users.byId(job.payload.userId);
    if (!user) return; // the account was deleted meanwhile: nobody to write to
    const mail = await compose(user);
    if (!mail) return;
    const messageId = messageIdFor(job.id, ctx.config.MAIL_FROM);
    await mailer.send({ to: job.payload.to ?? user.email, messageId, ...mail });
  };
  const named = (make: (username: string) => Composed) => (user: UserRow) => make(user.username);
  ctx.jobs.register<MailPayload>(MAIL_WELCOME, (job) =>
    send(job, async (user) => {
      if (user.emailVerifiedAt !== null) return welcomeEmail(user.username);
      const verify = await issueAccountToken(ctx, "email-verification", user);
      return { ...welcomeEmail(user.username, verify), secrets: [verify.token] };
    }),
  );
  // Verification links go to the current address; once it is verified there is nothing to send.
  ctx.jobs.register<MailPayload>(MAIL_VERIFY_EMAIL, (job) =>
    send(job, async (user) => {
      if (user.emailVerifiedAt !== null) return undefined;
      const verify = await issueAccountToken(ctx, "email-verification", user);
      return { ...verifyEmailEmail(user.username, verify), secrets: [verify.token] };
    }),
  );
  // A suspended account gets no reset link (it could not sign in with the new password anyway).
  ctx.jobs.register<MailPayload>(MAIL_PASSWORD_RESET, (job) =>
    send(job, async (user) => {
      if (user.suspended) return undefined;
      const reset = await issueAccountToken(ctx, "password-reset", user);
      return { ...passwordResetEmail(user.username, reset), secrets: [reset.token] };
    }),
  );
  ctx.jobs.register<MailPayload>(MAIL_PASSWORD_CHANGED, (job) =>
    send(
      job,
      named((name) => passwordChangedEmail(name, new Date(job.payload.at ?? ctx.clock.now()))),
    ),
  );
  ctx.jobs.register<MailPayload>(MAIL_EMAIL_CHANGED, (job) =>
    send(
      job,
      named((name) =>
        emailChangedEmail(name, new Date(job.payload.at ?? ctx.clock.now()), job.payload.newEmail ?? ""),
      ),
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
          // The new address is unverified until a link sent to it is followed.
          await ctx.jobs.enqueue(tx, MAIL_VERIFY_EMAIL, { userId: e.userId });
        }
      } else if (e.type === "user.email_verification_requested") {
        await ctx.jobs.enqueue(tx, MAIL_VERIFY_EMAIL, { userId: e.userId });
      } else if (e.type === "user.password_reset_requested") {
        await ctx.jobs.enqueue(tx, MAIL_PASSWORD_RESET, { userId: e.userId });
      } else if (e.type === "user.deleted") {
        // Nothing left to send, and finished notices still hold addresses: they go with the account.
        await tx.jobs.deleteForUser(MAIL_JOBS, e.userId);
      }
    },
    afterCommit(e) {
      if (
        e.type === "user.created" ||
        e.type === "user.updated" ||
        e.type === "user.email_verification_requested" ||
        e.type === "user.password_reset_requested"
      )
        ctx.jobs.wake();
    },
  };
}

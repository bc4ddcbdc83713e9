/**
 * Email texts. Plain text only. The one-time links (`link`: `<APP_URL>/…?token=…` or a bare `token=…`) are
 * the only secrets, and the sender lists them in `secrets` so the log transport redacts them.
 */

/** A one-time link, and how long it works. */
export interface OneTimeLink {
  link: string;
  validMinutes: number;
}

const lasts = (minutes: number) =>
  minutes % 1440 === 0
    ? `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`
    : minutes % 60 === 0
      ? `${minutes / 60} hour${minutes === 60 ? "" : "s"}`
      : `${minutes} minutes`;

/** The welcome, with the link that verifies the address unless it is verified already. */
export function welcomeEmail(username: string, verify?: OneTimeLink) {
  const verifyText = verify
    ? `Please confirm that this address is yours:\n\n${verify.link}\n\n(The link works once, for ${lasts(verify.validMinutes)}.)\n\n`
    : "";
  return {
    subject: "Welcome to Quire",
    text: `Hello ${username},\n\nYour Quire account is ready. Happy writing!\n\n${verifyText}— Quire\n`,
  };
}

export function verifyEmailEmail(username: string, verify: OneTimeLink) {
  return {
    subject: "Confirm your email address for Quire",
    text:
      `Hello ${username},\n\nPlease confirm that this address is yours, for your Quire account:\n\n` +
      `${verify.link}\n\nThe link works once, for ${lasts(verify.validMinutes)}. If you did not ask for ` +
      "this, ignore this message.\n\n— Quire\n",
  };
}

export function passwordResetEmail(username: string, reset: OneTimeLink) {
  return {
    subject: "Reset your Quire password",
    text:
      `Hello ${username},\n\nSomeone (hopefully you) asked to reset the password of your Quire account. ` +
      `To choose a new one, follow this link:\n\n${reset.link}\n\nThe link works once, for ` +
      `${lasts(reset.validMinutes)}. Setting a new password signs out every session of the account.\n\n` +
      "If you did not ask for this, ignore this message: your password stays as it is.\n\n— Quire\n",
  };
}

export function passwordChangedEmail(username: string, at: Date) {
  return {
    subject: "Your Quire password was changed",
    text:
      `Hello ${username},\n\nThe password of your Quire account was changed on ${at.toUTCString()}. ` +
      "Every other session was signed out.\n\nIf this was not you, reset your password and contact an " +
      "administrator.\n\n— Quire\n",
  };
}

export function emailChangedEmail(username: string, at: Date, newEmail: string) {
  return {
    subject: "Your Quire email address was changed",
    text:
      `Hello ${username},\n\nThe email address of your Quire account was changed to ${newEmail} on ` +
      `${at.toUTCString()}. This is the last message sent to this address.\n\nIf this was not you, ` +
      "contact an administrator.\n\n— Quire\n",
  };
}

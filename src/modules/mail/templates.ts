/** Email texts. Plain text only; nothing here may carry a secret (the log transport prints messages). */
export function welcomeEmail(username: string) {
  return {
    subject: "Welcome to Quire",
    text: `Hello ${username},\n\nYour Quire account is ready. Happy writing!\n\n— Quire\n`,
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

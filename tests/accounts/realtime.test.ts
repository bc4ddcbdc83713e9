/**
 * The account lifecycle on live sockets (a real server on 127.0.0.1): a password reset and a deletion close
 * the account's sockets with 4001, and a deletion reaches other people's subscribers as ordinary events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addComment, createArticle, favorite, login, registerUser } from "../helpers/app.ts";
import { startSmtp, type TestSmtp, tokenIn } from "../helpers/smtp.ts";
import { Client, type Served, serve } from "../realtime/helpers.ts";
import { RESET_SUBJECT } from "./helpers.ts";

let smtp: TestSmtp;
let s: Served;

beforeAll(async () => {
  smtp = await startSmtp();
  s = await serve({ SMTP_URL: smtp.url });
});
afterAll(async () => {
  await s.stop();
  await smtp.close();
});

describe("sockets of an account", () => {
  test("a password reset closes every socket of every earlier session with 4001", async () => {
    const user = await registerUser(s);
    const other = await login(s, user.email, user.password);
    const a = await Client.open(`${s.ws}?token=${user.token}`);
    const b = await Client.open(`${s.ws}?token=${other}`);
    await a.subscribe("feed");
    await b.subscribe("articles");

    const asked = await s.request("POST", "/api/users/password-reset", {
      body: { user: { email: user.email } },
    });
    expect(asked.status).toBe(202);
    await s.ctx.jobs.runDue();
    const mail = await smtp.waitFor((m) => m.to.includes(user.email) && m.subject === RESET_SUBJECT);
    const res = await s.request("POST", "/api/users/password-reset/confirm", {
      body: { token: tokenIn(mail), password: "a brand new passphrase" },
    });
    expect(res.status).toBe(200);
    expect(await a.closed).toEqual({ code: 4001, reason: "session ended" });
    expect(await b.closed).toEqual({ code: 4001, reason: "session ended" });

    // The new session connects.
    const c = await Client.open(`${s.ws}?token=${res.body.user.token}`);
    expect((await c.subscribe("feed")).ack.type).toBe("subscribed");
    c.close();
  });

  test("deleting the account closes its sockets (4001); subscribers hear of what went", async () => {
    const author = await registerUser(s);
    const user = await registerUser(s);
    const theirs = await createArticle(s, author.token, { title: "Stays" });
    const mine = await createArticle(s, user.token, { title: "Goes" });
    await favorite(s, user.token, theirs.slug);
    const comment = await addComment(s, user.token, theirs.slug, "bye");

    const own = await Client.open(`${s.ws}?token=${user.token}`);
    await own.subscribe("articles");
    const watcher = await Client.open(s.ws);
    await watcher.subscribe(`articles:${theirs.slug}`);
    await watcher.subscribe(`articles:${mine.slug}`);

    const res = await s.request("DELETE", "/api/user", {
      token: user.token,
      body: { user: { password: user.password } },
    });
    expect(res.status).toBe(204);
    expect(await own.closed).toEqual({ code: 4001, reason: "session ended" });

    const events = await watcher.take(3);
    expect(events.map((e) => [e.topic, e.event])).toEqual([
      [`articles:${mine.slug}`, "article.deleted"],
      [`articles:${theirs.slug}`, "comment.deleted"],
      [`articles:${theirs.slug}`, "article.unfavorited"],
    ]);
    expect(events[1].data.comment.id).toBe(comment.id);
    expect(events[2].data.article.favoritesCount).toBe(0);
    watcher.close();
  });
});

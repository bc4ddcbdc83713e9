/**
 * Issue 13's eight guarantees on three nodes of the compiled binary (A, B, C) sharing one Postgres database
 * and one redis-server: what a client sees across nodes is what it would see on one node. One cluster for
 * the whole file; every test makes its own accounts and topics.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  account,
  api,
  type BinaryCluster,
  type BinaryNode,
  clusterSkip,
  clusterUp,
  startCluster,
  until,
} from "../helpers/cluster.ts";
import { startSmtp, type TestSmtp } from "../helpers/smtp.ts";
import { Client, refusedUpgrade, sseReader } from "../realtime/helpers.ts";

const skip = clusterSkip();

describe.skipIf(skip)("three binary nodes on Postgres + Redis", () => {
  let cluster: BinaryCluster;
  let smtp: TestSmtp;
  let a: BinaryNode;
  let b: BinaryNode;
  let c: BinaryNode;
  /** Webhook deliveries received, by webhook-id (a repeated id is a duplicate delivery). */
  const hooks: { id: string; type: string; body: string }[] = [];
  let hookServer: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    smtp = await startSmtp();
    hookServer = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = await req.text();
        hooks.push({ id: req.headers.get("webhook-id") ?? "", type: JSON.parse(body).type, body });
        return new Response(null, { status: 204 });
      },
    });
    cluster = await startCluster(["A", "B", "C"], {
      env: {
        // Rate limits on, generous except the one budget a test exhausts (per address, shared by the nodes).
        RATE_LIMIT_ENABLED: "true",
        RATE_LIMIT_IP_PER_MINUTE: "1000000",
        RATE_LIMIT_USER_PER_MINUTE: "1000000",
        RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
        RATE_LIMIT_EMAIL_PER_ADDRESS_PER_HOUR: "3",
        REALTIME_MAX_CONNECTIONS_PER_USER: "2",
        SMTP_URL: smtp.url,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      },
    });
    [a, b, c] = cluster.nodes as [BinaryNode, BinaryNode, BinaryNode];
    await clusterUp(cluster.nodes);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    await smtp?.close();
    hookServer?.stop(true);
  });

  const makeAdmin = async (on: BinaryNode) => {
    const user = await account(on, "admin");
    await cluster.sql`update users set role = 'admin' where username = ${user.username}`;
    // A new session reads the role afresh on every node.
    const res = await api(on.http, "POST", "/api/users/login", {
      user: { email: user.email, password: user.password },
    });
    expect(res.status).toBe(200);
    return { ...user, token: res.body.user.token as string };
  };
  const article = async (on: BinaryNode, token: string, fields: Record<string, unknown> = {}) => {
    const res = await api(
      on.http,
      "POST",
      "/api/articles",
      { article: { title: `t ${Math.random()}`, description: "d", body: "b", ...fields } },
      token,
    );
    expect(res.status).toBe(201);
    return res.body.article;
  };

  test("1. an event committed on A reaches WebSockets on A and C and SSE on B, once each, in commit order, at the same position", async () => {
    const author = await account(a);
    const wsA = await Client.open(a.ws);
    const wsC = await Client.open(c.ws);
    for (const ws of [wsA, wsC]) expect((await ws.subscribe("articles")).ack.type).toBe("subscribed");
    const sse = await fetch(`${b.http}/api/realtime/sse?topics=articles`);
    expect(sse.status).toBe(200);
    const stream = sseReader(sse);
    expect((await stream.next()).data.type).toBe("subscribed");

    const titles = ["one", "two", "three"].map((t) => `${t} ${Date.now()}`);
    for (const title of titles) await article(a, author.token, { title });

    const positions: number[][] = [];
    for (const ws of [wsA, wsC]) {
      const got = await ws.take(3);
      expect(got.map((m) => m.event)).toEqual(Array(3).fill("article.created"));
      expect(got.map((m) => m.data.article.title)).toEqual(titles);
      positions.push(got.map((m) => m.seq));
      await ws.quiet(); // nothing twice
    }
    const frames = [await stream.next(), await stream.next(), await stream.next()];
    expect(frames.map((f) => f.data.data.article.title)).toEqual(titles);
    positions.push(frames.map((f) => Number(f.id)));
    const [first] = positions;
    expect([...first!].sort((x, y) => x - y)).toEqual(first!);
    expect(positions).toEqual([first!, first!, first!]);
    await stream.cancel();
    wsA.close();
    wsC.close();
  });

  test("2. resume on another node: exactly what was missed (`since`, Last-Event-ID), or reset", async () => {
    const author = await account(a);
    const { slug } = await article(a, author.token);
    const topic = `articles:${slug}`;
    const comment = async (on: BinaryNode, body: string) =>
      expect(
        (await api(on.http, "POST", `/api/articles/${slug}/comments`, { comment: { body } }, author.token))
          .status,
      ).toBe(201);
    const first = await Client.open(b.ws);
    const { ack } = await first.subscribe(topic);
    await comment(a, "seen");
    const seen = await first.next();
    expect(seen.data.comment.body).toBe("seen");
    first.close();
    await first.closed;
    await comment(c, "missed 1");
    await comment(a, "missed 2");

    const again = await Client.open(c.ws);
    const resumed = await again.subscribe(topic, seen.seq);
    expect(resumed.before.map((m) => m.data.comment.body)).toEqual(["missed 1", "missed 2"]);
    await again.quiet();
    again.close();

    const sse = await fetch(`${a.http}/api/realtime/sse?topics=${encodeURIComponent(topic)}`, {
      headers: { "last-event-id": String(ack.seq) },
    });
    const stream = sseReader(sse);
    const replay = [await stream.next(), await stream.next(), await stream.next()];
    expect(replay.map((f) => f.data.data.comment.body)).toEqual(["seen", "missed 1", "missed 2"]);
    expect((await stream.next()).data.type).toBe("subscribed");
    await stream.cancel();

    const stale = await Client.open(b.ws);
    const old = await stale.subscribe("articles", 5); // a position from before this Redis existed
    expect(old.before).toEqual([{ type: "reset", topic: "articles" }]);
    stale.close();
  });

  test("3. read-your-writes: B answers a write acknowledged by A at once, though B had the old state cached", async () => {
    const author = await account(a);
    const reader = await account(a);
    const tag = `t${Date.now().toString(36)}`;
    const first = await article(a, author.token, { tagList: [tag], body: "first" });
    const read = async () => {
      const res = await Promise.all([
        api(b.http, "GET", `/api/articles/${first.slug}`, undefined, reader.token),
        api(b.http, "GET", `/api/articles?tag=${tag}`),
        api(b.http, "GET", "/api/tags"),
        api(b.http, "GET", `/api/profiles/${author.username}`, undefined, reader.token),
        api(b.http, "GET", "/api/articles/feed", undefined, reader.token),
      ]);
      for (const r of res) expect(r.status).toBe(200);
      return res.map((r) => r.body);
    };
    // Twice: the second answer comes from B's caches.
    await read();
    const [article0, list0, , profile0, feed0] = await read();
    expect(article0.article).toMatchObject({ favorited: false, favoritesCount: 0, body: "first" });
    expect(list0.articlesCount).toBe(1);
    expect(profile0.profile).toMatchObject({ following: false, bio: null });
    expect(feed0.articlesCount).toBe(0);

    const tag2 = `${tag}x`;
    const writes = [
      api(a.http, "PUT", `/api/articles/${first.slug}`, { article: { body: "second" } }, author.token),
      api(a.http, "POST", `/api/articles/${first.slug}/favorite`, undefined, reader.token),
      api(
        a.http,
        "POST",
        "/api/articles",
        {
          article: { title: `second ${tag}`, description: "d", body: "b", tagList: [tag, tag2] },
        },
        author.token,
      ),
      api(a.http, "PUT", "/api/user", { user: { bio: "now with a bio" } }, author.token),
      api(a.http, "POST", `/api/profiles/${author.username}/follow`, undefined, reader.token),
    ];
    for (const w of writes) expect([200, 201]).toContain((await w).status);

    const [article1, list1, tags1, profile1, feed1] = await read();
    expect(article1.article).toMatchObject({ favorited: true, favoritesCount: 1, body: "second" });
    expect(list1.articlesCount).toBe(2);
    expect(tags1.tags).toEqual(expect.arrayContaining([tag, tag2]));
    expect(profile1.profile).toMatchObject({ following: true, bio: "now with a bio" });
    expect(feed1.articlesCount).toBe(2);
  });

  test("4. one rate-limit budget for the cluster: three reset requests for an address over A, B, C, the fourth is 429 on every node", async () => {
    const email = `nobody${Date.now()}@example.com`;
    const ask = (on: BinaryNode) => api(on.http, "POST", "/api/users/password-reset", { user: { email } });
    for (const on of [a, b, c]) expect((await ask(on)).status).toBe(202);
    for (const on of [a, b, c]) {
      const res = await ask(on);
      expect(res.status).toBe(429);
      expect(Object.keys(res.body.errors)).toHaveLength(1);
      expect(res.text).not.toContain(email); // the limiter keys on a hash, never echoes the address
    }
    // Another address has its own budget.
    const other = await api(b.http, "POST", "/api/users/password-reset", { user: { email: `x${email}` } });
    expect(other.status).toBe(202);
  });

  test("5. logout, logout-all, password change and suspension on one node: 401 on every node, sockets closed 4001", async () => {
    const user = await account(a);
    const login = async () =>
      (
        await api(a.http, "POST", "/api/users/login", {
          user: { email: user.email, password: user.password },
        })
      ).body.user.token as string;
    const everywhere = async (token: string, status: number) => {
      for (const on of [a, b, c])
        expect((await api(on.http, "GET", "/api/user", undefined, token)).status).toBe(status);
    };
    // Logout on A.
    const s1 = await login();
    await everywhere(s1, 200);
    const onB = await Client.open(`${b.ws}?token=${s1}`);
    const onC = await Client.open(`${c.ws}?token=${s1}`);
    for (const ws of [onB, onC]) expect((await ws.subscribe("feed")).ack.type).toBe("subscribed");
    expect((await api(a.http, "POST", "/api/users/logout", undefined, s1)).status).toBe(204);
    for (const ws of [onB, onC]) expect((await ws.closed).code).toBe(4001);
    await everywhere(s1, 401);
    await everywhere(user.token, 200); // the other session lives on

    // Password change on C ends the other sessions.
    const s2 = await login();
    await everywhere(s2, 200);
    const change = await api(
      c.http,
      "PUT",
      "/api/user",
      { user: { password: "another good passphrase" } },
      user.token,
    );
    expect(change.status).toBe(200);
    await everywhere(s2, 401);
    user.password = "another good passphrase";

    // Logout-all on B.
    const s3 = await login();
    const s4 = await login();
    await everywhere(s3, 200);
    expect((await api(b.http, "POST", "/api/users/logout-all", undefined, s3)).status).toBe(204);
    await everywhere(s3, 401);
    await everywhere(s4, 401);

    // Suspension by an admin on C.
    const admin = await makeAdmin(a);
    const victim = await account(a);
    await everywhere(victim.token, 200);
    const socket = await Client.open(`${a.ws}?token=${victim.token}`);
    expect((await socket.subscribe("feed")).ack.type).toBe("subscribed");
    const suspend = await api(
      c.http,
      "PATCH",
      `/api/admin/users/${victim.username}`,
      { suspended: true },
      admin.token,
    );
    expect(suspend.status).toBe(200);
    expect((await socket.closed).code).toBe(4001);
    await everywhere(victim.token, 401);
  });

  test("6. a webhook and an email go out once per event though three nodes' workers share the queue; housekeeping ran once", async () => {
    const admin = await makeAdmin(b);
    const created = await api(
      b.http,
      "POST",
      "/api/admin/webhooks",
      { url: `http://127.0.0.1:${hookServer.port}/hook`, events: ["article.created"] },
      admin.token,
    );
    expect(created.status).toBe(201);
    const author = await account(a);
    const slugs: string[] = [];
    for (const on of [a, b, c, a, b, c]) slugs.push((await article(on, author.token)).slug);
    await until(() => hooks.length >= slugs.length, "six deliveries");
    const user = await account(c);
    expect(
      (await api(a.http, "POST", "/api/users/password-reset", { user: { email: user.email } })).status,
    ).toBe(202);
    await smtp.waitFor((m) => m.to.includes(user.email) && m.subject === "Reset your Quire password");
    await smtp.waitFor((m) => m.to.includes(user.email) && m.subject === "Welcome to Quire");
    // Time for a duplicate to show, if any node were to send one.
    await Bun.sleep(500);
    expect(hooks.map((h) => JSON.parse(h.body).data.article.slug).sort()).toEqual([...slugs].sort());
    expect(new Set(hooks.map((h) => h.id)).size).toBe(hooks.length);
    // The welcome mail of the registration on C and the reset asked on A: each once.
    const subjects = smtp.received.filter((m) => m.to.includes(user.email)).map((m) => m.subject);
    expect(subjects.sort()).toEqual(["Reset your Quire password", "Welcome to Quire"]);
    const jobs = await cluster.sql`
      select type, count(*)::int as n from jobs where type like 'housekeeping.%' group by type order by type`;
    expect(jobs.map((r: { type: string; n: number }) => [r.type, r.n])).toEqual([
      ["housekeeping.optimize", 1],
      ["housekeeping.purge", 1],
    ]);
    // Each node scheduled the recurring jobs at start; the purge ran once for the cluster, not once per node.
    await until(
      () => cluster.nodes.some((n) => n.logs().includes("housekeeping: purged")),
      "the first housekeeping run",
    );
    const runs = cluster.nodes.map((n) => n.logs().split("housekeeping: purged").length - 1);
    expect(runs.reduce((x, y) => x + y, 0)).toBe(1);
  });

  test("7. a feature flag switched on A applies on B and C at once", async () => {
    const admin = await makeAdmin(a);
    const flag = (enabled: boolean, on: BinaryNode) =>
      api(on.http, "PATCH", "/api/admin/flags/registration", { enabled }, admin.token);
    expect((await flag(false, a)).status).toBe(200);
    try {
      for (const on of [b, c]) {
        const name = `x${Date.now()}${on.name}`;
        const res = await api(on.http, "POST", "/api/users", {
          user: { username: name, email: `${name}@example.com`, password: "correct horse battery" },
        });
        expect(res.status).toBe(403);
        expect((await cluster.sql`select count(*)::int as n from users where username = ${name}`)[0].n).toBe(
          0,
        );
      }
    } finally {
      expect((await flag(true, b)).status).toBe(200);
    }
    await account(c); // registration is open again on C
  });

  test("8. connection caps per user hold for the cluster: a third socket, on any node, is 429", async () => {
    const user = await account(a);
    const open = [
      await Client.open(`${a.ws}?token=${user.token}`),
      await Client.open(`${b.ws}?token=${user.token}`),
    ];
    for (const ws of open) expect((await ws.subscribe("feed")).ack.type).toBe("subscribed");
    for (const on of [a, b, c]) {
      const res = await refusedUpgrade(`${on.ws}?token=${user.token}`);
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ errors: { realtime: ["too many connections for this user"] } });
    }
    open[0]!.close();
    await open[0]!.closed;
    let again: Client | undefined;
    await until(async () => {
      again = await Client.open(`${c.ws}?token=${user.token}`).catch(() => undefined);
      return again !== undefined && (await again.subscribe("feed")).ack.type === "subscribed";
    }, "the closed socket to free its place");
    again!.close();
    open[1]!.close();
  });
});

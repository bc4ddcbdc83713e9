/**
 * The publisher process for bench/realtime/fanout.ts: sends each event as an HTTP POST to the server under
 * test (Quire: `POST /api/articles`; the baseline: its own publish endpoint), with the publish timestamp in
 * `article.description`. Both servers get the same requests in the same pattern. IPC commands:
 *   {type:"burst", count, concurrency}  as fast as the server answers, `concurrency` requests in flight
 *   {type:"paced", count, rate}         one request every 1/rate s
 * Each replies {type:"done", ms, failed}.
 *
 *   bun bench/realtime/publisher.ts <post-url> [token]
 */
const [url, token] = process.argv.slice(2);
if (!url) {
  console.error("usage: publisher.ts <post-url> [token]");
  process.exit(2);
}
const headers = { "content-type": "application/json", ...(token && { authorization: `Token ${token}` }) };
let n = 0;
let failed = 0;

async function publishOne(): Promise<void> {
  n += 1;
  const description = String(performance.timeOrigin + performance.now());
  const res = await fetch(url!, {
    method: "POST",
    headers,
    body: JSON.stringify({ article: { title: `bench ${process.pid} ${n}`, description, body: "b" } }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) failed += 1;
}

process.on("message", async (msg: { type: string; count: number; concurrency?: number; rate?: number }) => {
  const t0 = performance.now();
  failed = 0;
  if (msg.type === "burst") {
    let left = msg.count;
    const worker = async () => {
      while (left > 0) {
        left -= 1;
        await publishOne();
      }
    };
    await Promise.all(Array.from({ length: msg.concurrency ?? 1 }, worker));
  } else if (msg.type === "paced") {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < msg.count; i++) {
      const wait = t0 + (i * 1000) / msg.rate! - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      pending.push(publishOne());
    }
    await Promise.all(pending);
  } else if (msg.type === "exit") {
    process.exit(0);
  }
  process.send?.({ type: "done", ms: performance.now() - t0, failed });
});
process.send?.({ type: "ready" });

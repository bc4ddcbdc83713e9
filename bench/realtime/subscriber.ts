/**
 * A subscriber process for bench/realtime/fanout.ts: opens `count` WebSockets to `url`, subscribes each to
 * `articles` with the Quire protocol, and records, for every event received, the latency from the publish
 * timestamp carried in the payload (`data.article.description`) to its arrival. Talks to the parent over IPC:
 * ready → {reset | report}* → exit. Both servers under test get exactly this client.
 *
 *   bun bench/realtime/subscriber.ts <ws-url> <count>
 */
const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count <= 0) {
  console.error("usage: subscriber.ts <ws-url> <count>");
  process.exit(2);
}

/** Latency histogram: 20 µs buckets up to 5 s, then one overflow bucket. */
const BUCKET_MS = 0.02;
const hist = new Uint32Array(Math.ceil(5_000 / BUCKET_MS) + 1);
let received = 0;
let first = 0;
let last = 0;
const now = () => performance.timeOrigin + performance.now();

const DESCRIPTION = '"description":"';

function onEvent(data: string): void {
  const at = now();
  // Not JSON.parse: the clients must not be the bottleneck. Events start with {"type":"event" in both
  // servers' messages, and the timestamp is the article's description.
  if (!data.startsWith('{"type":"event"')) return;
  const from = data.indexOf(DESCRIPTION) + DESCRIPTION.length;
  const latency = at - Number(data.slice(from, data.indexOf('"', from)));
  hist[Math.min(hist.length - 1, Math.max(0, Math.floor(latency / BUCKET_MS)))]! += 1;
  received += 1;
  if (first === 0) first = at;
  last = at;
}

const sockets: WebSocket[] = [];
let ready = 0;
let closedEarly = 0;

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url!);
    sockets.push(ws);
    ws.onopen = () => ws.send(JSON.stringify({ op: "subscribe", topic: "articles" }));
    ws.onmessage = (e) => {
      // The first message is the acknowledgement; everything after it goes to the hot path.
      ws.onmessage = (ev) => onEvent(ev.data as string);
      ready += 1;
      resolve();
      void e;
    };
    ws.onerror = () => reject(new Error("connect failed"));
    ws.onclose = () => {
      closedEarly += 1;
    };
  });
}

// Connect in waves so the listener's backlog is never the thing being measured.
for (let i = 0; i < count; i += 250) {
  await Promise.all(Array.from({ length: Math.min(250, count - i) }, open));
}
process.send?.({ type: "ready", ready });

process.on("message", (msg: { type: string }) => {
  if (msg.type === "reset") {
    hist.fill(0);
    received = 0;
    first = 0;
    last = 0;
    process.send?.({ type: "reset" });
  } else if (msg.type === "report") {
    const buckets: [number, number][] = [];
    hist.forEach((n, i) => {
      if (n > 0) buckets.push([i, n]);
    });
    process.send?.({ type: "report", received, first, last, buckets, bucketMs: BUCKET_MS, closedEarly });
  } else if (msg.type === "exit") {
    for (const ws of sockets) ws.onclose = null;
    for (const ws of sockets) ws.close();
    setTimeout(() => process.exit(0), 100);
  }
});

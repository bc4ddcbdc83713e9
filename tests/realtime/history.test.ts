/** TopicHistory on its own: bounds by count, age and bytes, and the resume contract as a property. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { TopicHistory } from "../../src/lib/topic-history.ts";

function history(overrides: Partial<ConstructorParameters<typeof TopicHistory>[0]> = {}) {
  let now = 1_000;
  const h = new TopicHistory<number | undefined>({
    perTopic: 3,
    maxAgeMs: 1_000,
    maxBytes: 1_000_000,
    maxQuietTopics: 100,
    startSeq: 500,
    now: () => now,
    ...overrides,
  });
  return { h, advance: (ms: number) => (now += ms) };
}

const seqs = (r: ReturnType<TopicHistory<number | undefined>["since"]>) =>
  r.ok ? r.entries.map((e) => e.seq) : "reset";

describe("TopicHistory", () => {
  test("sequence numbers start after startSeq and are shared by all topics", async () => {
    const { h } = history();
    expect(h.append("a", (n) => `a${n}`, undefined).seq).toBe(501);
    expect(h.append("b", (n) => `b${n}`, undefined).seq).toBe(502);
    expect(h.append("a", (n) => `a${n}`, undefined).message).toBe("a503");
    expect(h.current).toBe(503);
    expect(seqs(h.since("a", 500))).toEqual([501, 503]);
    expect(seqs(h.since("b", 501))).toEqual([502]);
  });

  test("per-topic count: the oldest go and resuming from before them is a reset", async () => {
    const { h } = history();
    for (let i = 0; i < 5; i++) h.append("a", String, undefined); // 501..505, keeps 503..505
    expect(seqs(h.since("a", 500))).toBe("reset");
    expect(seqs(h.since("a", 501))).toBe("reset");
    expect(seqs(h.since("a", 502))).toEqual([503, 504, 505]);
    expect(h.size.messages).toBe(3);
  });

  test("age: entries older than maxAgeMs go, even while nothing is published", async () => {
    const { h, advance } = history();
    h.append("a", String, undefined);
    advance(600);
    h.append("a", String, undefined);
    advance(500);
    expect(seqs(h.since("a", 500))).toBe("reset");
    expect(seqs(h.since("a", 501))).toEqual([502]);
    advance(600);
    expect(seqs(h.since("a", 502))).toEqual([]);
    expect(h.size).toEqual({ messages: 0, bytes: 0, topics: 0 });
  });

  test("bytes: the globally oldest go first, whichever topic they belong to", async () => {
    const { h } = history({ maxBytes: 25, perTopic: 100 });
    h.append("a", () => "x".repeat(10), undefined); // 501
    h.append("b", () => "y".repeat(10), undefined); // 502
    h.append("b", () => "z".repeat(10), undefined); // 503: 30 bytes > 25, 501 goes
    expect(seqs(h.since("a", 500))).toBe("reset");
    expect(seqs(h.since("b", 500))).toEqual([502, 503]);
    expect(h.size.bytes).toBe(20);
  });

  test("a quiet topic keeps its floor; once the LRU forgets it, unknown topics inherit the highest forgotten", async () => {
    const { h, advance } = history({ maxQuietTopics: 1 });
    expect(h.floor("never-seen")).toBe(500); // nothing was ever dropped for it
    h.append("q", String, undefined); // 501
    advance(1_500);
    h.prune(); // 501 ages out: q keeps only its floor
    expect(seqs(h.since("q", 500))).toBe("reset");
    expect(seqs(h.since("q", 501))).toEqual([]);
    h.floor("other"); // the LRU of one forgets q (floor 501)
    expect(seqs(h.since("q", 501))).toEqual([]); // still right
    expect(seqs(h.since("unknown", 500))).toBe("reset"); // conservative: it might have been q
    h.append("fresh", String, undefined); // 502, a new topic starts from the forgotten floor
    expect(seqs(h.since("fresh", 501))).toEqual([502]);
  });

  test("positions never handed out are a reset", async () => {
    const { h } = history();
    h.append("a", String, undefined);
    expect(seqs(h.since("a", 10))).toBe("reset");
    expect(seqs(h.since("a", 999))).toBe("reset");
  });

  test("accept filters the replay (the feed keeps followed authors only)", async () => {
    const { h } = history({ perTopic: 10 });
    for (const author of [1, 2, 1, 3]) h.append("feed", String, author);
    expect(seqs(h.since("feed", 500, (a) => a === 1))).toEqual([501, 503]);
  });

  test("property: a resume returns exactly the kept events after `since`, or resets only if one is gone", async () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 0, max: 400 }), fc.nat(30)), {
          maxLength: 60,
        }),
        fc.nat(70),
        (ops, pick) => {
          const { h, advance } = history({ perTopic: 4, maxAgeMs: 1_000, maxBytes: 60 });
          const all: { topic: string; seq: number }[] = [];
          for (const [topic, wait, size] of ops) {
            advance(wait);
            all.push({ topic, seq: h.append(topic, () => "m".repeat(size), undefined).seq });
          }
          const since = 500 + Math.min(pick, all.length);
          for (const topic of ["a", "b", "c"]) {
            const r = h.since(topic, since);
            const expected = all.filter((e) => e.topic === topic && e.seq > since).map((e) => e.seq);
            if (r.ok) expect(r.entries.map((e) => e.seq)).toEqual(expected);
            // A reset is only allowed when some expected event is really no longer kept.
            else expect(expected.length === 0 || h.since(topic, expected[0]! - 1).ok === false).toBe(true);
          }
          expect(h.size.bytes).toBeLessThanOrEqual(60);
        },
      ),
    );
  });
});

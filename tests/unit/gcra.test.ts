/** GCRA decisions under a fake clock, and the bounded store that holds its state. */
import { describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/lib/clock.ts";
import { Gcra, type Policy } from "../../src/lib/gcra.ts";
import { SegmentedLru } from "../../src/lib/segmented-lru.ts";

const tenPerMinute: Policy = { name: "t", quota: 10, windowMs: 60_000 };

function limiter(store = new SegmentedLru<number>({ probationMax: 100, protectedMax: 100 })) {
  const clock = new FakeClock();
  return { clock, store, gcra: new Gcra(store, clock) };
}

describe("Gcra", () => {
  test("a rested key bursts exactly the quota, counting down, then is refused with the wait", async () => {
    const { gcra } = limiter();
    const remaining = Array.from({ length: 10 }, () => gcra.hit("k", tenPerMinute));
    expect(remaining.map((d) => d.allowed)).toEqual(Array(10).fill(true));
    expect(remaining.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const refused = gcra.hit("k", tenPerMinute);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 6_000 });
  });

  test("refused requests are not counted: one interval later exactly one more is allowed", async () => {
    const { gcra, clock } = limiter();
    for (let i = 0; i < 10; i++) gcra.hit("k", tenPerMinute);
    for (let i = 0; i < 50; i++) expect(gcra.hit("k", tenPerMinute).allowed).toBe(false);
    clock.advance(6_000);
    expect(gcra.hit("k", tenPerMinute).allowed).toBe(true);
    expect(gcra.hit("k", tenPerMinute).allowed).toBe(false);
  });

  test("a client at exactly the sustained rate is never refused", async () => {
    const { gcra, clock } = limiter();
    for (let i = 0; i < 100; i++) {
      expect(gcra.hit("k", tenPerMinute).allowed).toBe(true);
      clock.advance(6_000);
    }
  });

  test("resetMs says when the key is fully rested; after it the whole burst is back", async () => {
    const { gcra, clock } = limiter();
    gcra.hit("k", tenPerMinute);
    const d = gcra.hit("k", tenPerMinute);
    expect(d.resetMs).toBe(12_000);
    clock.advance(d.resetMs);
    expect(gcra.peek("k", tenPerMinute).remaining).toBe(9);
  });

  test("peek never counts", async () => {
    const { gcra } = limiter();
    for (let i = 0; i < 100; i++) gcra.peek("k", tenPerMinute);
    expect(gcra.hit("k", tenPerMinute).remaining).toBe(9);
  });

  test("keys are independent", async () => {
    const { gcra } = limiter();
    for (let i = 0; i < 10; i++) gcra.hit("a", tenPerMinute);
    expect(gcra.hit("a", tenPerMinute).allowed).toBe(false);
    expect(gcra.hit("b", tenPerMinute).allowed).toBe(true);
  });
});

describe("SegmentedLru", () => {
  test("memory stays bounded under a flood of distinct keys", async () => {
    const store = new SegmentedLru<number>({ probationMax: 20, protectedMax: 80 });
    for (let i = 0; i < 100_000; i++) store.set(`flood-${i}`, i);
    expect(store.size).toBeLessThanOrEqual(100);
  });

  test("a key seen twice is protected: a flood of one-off keys cannot evict it", async () => {
    const store = new SegmentedLru<number>({ probationMax: 20, protectedMax: 80 });
    store.set("client", 1);
    store.get("client");
    expect(store.segmentOf("client")).toBe("protected");
    for (let i = 0; i < 100_000; i++) {
      store.get(`flood-${i}`);
      store.set(`flood-${i}`, i);
    }
    expect(store.get("client")).toBe(1);
  });

  test("a key seen once is only in probation, and a flood does evict it", async () => {
    const store = new SegmentedLru<number>({ probationMax: 20, protectedMax: 80 });
    store.set("once", 1);
    expect(store.segmentOf("once")).toBe("probation");
    for (let i = 0; i < 21; i++) store.set(`flood-${i}`, i);
    expect(store.segmentOf("once")).toBeUndefined();
  });

  test("an overflowing protected segment demotes its oldest key to probation instead of dropping it", async () => {
    const store = new SegmentedLru<number>({ probationMax: 5, protectedMax: 3 });
    for (const k of ["a", "b", "c", "d"]) {
      store.set(k, 1);
      store.get(k);
    }
    expect(store.segmentOf("a")).toBe("probation");
    expect(["b", "c", "d"].map((k) => store.segmentOf(k))).toEqual(["protected", "protected", "protected"]);
    expect(store.get("a")).toBe(1);
  });

  test("a brute-forcer's GCRA state survives a flood of fresh keys, so the flood does not reset the limit", async () => {
    const store = new SegmentedLru<number>({ probationMax: 50, protectedMax: 200 });
    const { gcra } = limiter(store);
    for (let i = 0; i < 10; i++) gcra.hit("attacker", tenPerMinute);
    for (let i = 0; i < 50_000; i++) gcra.hit(`spoofed-${i}`, tenPerMinute);
    expect(gcra.hit("attacker", tenPerMinute).allowed).toBe(false);
    expect(store.size).toBeLessThanOrEqual(250);
  });
});

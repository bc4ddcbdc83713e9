/** TtlCache (src/lib/cache.ts): bounds, expiry on the given clock, single-flight loads and counters. */
import { describe, expect, test } from "bun:test";
import { TtlCache } from "../../src/lib/cache.ts";

function cache(options: Partial<ConstructorParameters<typeof TtlCache<string, string>>[0]> = {}) {
  let now = 1_000;
  const c = new TtlCache<string, string>({
    name: "test",
    max: 100,
    maxBytes: 10_000,
    ttlMs: 1_000,
    sizeOf: (v) => v.length,
    now: () => now,
    ...options,
  });
  return {
    c,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("TtlCache", () => {
  test("load: the loader runs on a miss only; hits are answered without a promise; counted", async () => {
    const { c } = cache();
    let calls = 0;
    const loader = async () => `v${++calls}`;
    expect(await c.load("k", loader)).toBe("v1");
    // A hit is the value itself, not a promise (the hot path allocates nothing).
    expect(c.load("k", loader)).toBe("v1");
    expect(c.load("k", loader)).toBe("v1");
    expect(calls).toBe(1);
    expect(c.stats()).toMatchObject({ name: "test", hits: 2, misses: 1, entries: 1, bytes: 2 });
  });

  test("a loader that finds nothing caches nothing", async () => {
    const { c } = cache();
    let calls = 0;
    expect(await c.load("k", async () => void calls++)).toBeUndefined();
    expect(await c.load("k", async () => void calls++)).toBeUndefined();
    expect(calls).toBe(2);
    expect(c.size).toBe(0);
  });

  test("entries expire after ttlMs on the given clock, and not before", async () => {
    const { c, advance } = cache();
    c.set("k", "old");
    advance(999);
    expect(c.get("k")).toBe("old");
    advance(2);
    expect(c.get("k")).toBeUndefined();
    expect(await c.load("k", async () => "new")).toBe("new");
  });

  test("bounded by entries: the least recently used goes first", async () => {
    const { c } = cache({ max: 3 });
    for (const k of ["a", "b", "c"]) c.set(k, k);
    c.get("a"); // a is now the most recently used
    c.set("d", "d");
    expect(c.peek("b")).toBeUndefined();
    expect([c.peek("a"), c.peek("c"), c.peek("d")]).toEqual(["a", "c", "d"]);
    expect(c.stats().evictions).toBe(1);
  });

  test("bounded by bytes: the total stays within maxBytes, and one entry may take at most an eighth", async () => {
    const { c } = cache({ maxBytes: 800 });
    for (let i = 0; i < 20; i++) c.set(`k${i}`, "x".repeat(100));
    expect(c.stats().bytes).toBeLessThanOrEqual(800);
    expect(c.size).toBe(8);
    expect(c.peek("k19")).toBe("x".repeat(100));
    c.set("huge", "y".repeat(101));
    expect(c.peek("huge")).toBeUndefined();
  });

  test("ttlMs 0 disables the cache: every read loads", async () => {
    const { c } = cache({ ttlMs: 0 });
    let calls = 0;
    await c.load("k", async () => `v${++calls}`);
    await c.load("k", async () => `v${++calls}`);
    expect(calls).toBe(2);
    expect(c.size).toBe(0);
  });

  test("delete, deleteWhere and clear drop entries", async () => {
    const { c } = cache();
    for (const k of ["a1", "a2", "b1"]) c.set(k, k);
    expect(c.delete("b1")).toBe(true);
    expect(c.deleteWhere((_v, k) => k === "a1")).toBe(1);
    expect(c.peek("a2")).toBe("a2");
    c.clear();
    expect(c.size).toBe(0);
  });
});

describe("TtlCache.fetch (asynchronous loaders)", () => {
  test("concurrent misses on one key run the loader once and all get its value", async () => {
    const { c } = cache();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const loader = async () => {
      calls++;
      await gate;
      return "loaded";
    };
    const waiting = Array.from({ length: 10 }, () => c.fetch("k", loader));
    release();
    expect(await Promise.all(waiting)).toEqual(Array(10).fill("loaded"));
    expect(calls).toBe(1);
    expect(c.stats()).toMatchObject({ misses: 1, coalesced: 9 });
    expect(await c.fetch("k", loader)).toBe("loaded");
    expect(c.stats().hits).toBe(1);
  });

  test("an invalidation while a load is in flight: waiters get the value, the cache does not keep it", async () => {
    const { c } = cache();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const pending = c.fetch("k", async () => {
      await gate;
      return "read before the write";
    });
    c.delete("k"); // the write commits while the read is still loading
    release();
    expect(await pending).toBe("read before the write");
    expect(c.peek("k")).toBeUndefined();
    expect(await c.fetch("k", async () => "after the write")).toBe("after the write");
  });

  test("a failed load is not cached and reaches every waiter", async () => {
    const { c } = cache();
    const failing = async () => {
      throw new Error("boom");
    };
    const results = await Promise.allSettled([c.fetch("k", failing), c.fetch("k", failing)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(c.peek("k")).toBeUndefined();
  });
});

/** The idle sweeper (src/cli/idle.ts): expired cache entries go, and one full collection when traffic stops. */
import { describe, expect, test } from "bun:test";
import { idleSweeper } from "../../src/cli/idle.ts";
import type { AppContext } from "../../src/context.ts";
import { TtlCache } from "../../src/lib/cache.ts";

function setup() {
  let now = 1_000;
  let arrivals = 0;
  const cache = () =>
    new TtlCache<string, string>({
      name: "c",
      max: 10,
      maxBytes: 1_000,
      ttlMs: 1_000,
      sizeOf: (v) => v.length,
      now: () => now,
    });
  const articles = cache();
  const sessions = cache();
  const ctx = {
    caches: { articles },
    sessions: { cache: sessions },
    metrics: { http: { arrivals: () => arrivals } },
  } as unknown as Pick<AppContext, "caches" | "sessions" | "metrics">;
  let collections = 0;
  const sweep = idleSweeper(ctx, () => collections++);
  return {
    articles,
    sessions,
    sweep,
    collections: () => collections,
    request: () => arrivals++,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("idle sweeper", () => {
  test("drops expired entries (not fresh ones) from the content caches and the session cache", () => {
    const s = setup();
    s.articles.set("old", "x");
    s.sessions.set("old", "y");
    s.advance(600);
    s.articles.set("new", "z");
    s.advance(600);
    s.request();
    expect(s.sweep()).toEqual({ purged: true, collected: false });
    expect([s.articles.peek("old"), s.sessions.peek("old"), s.articles.peek("new")]).toEqual([
      undefined,
      undefined,
      "z",
    ]);
    expect(s.articles.size).toBe(1);
  });

  test("one full collection when traffic stops, none while it flows or while the server stays idle", () => {
    const s = setup();
    expect(s.sweep().collected).toBe(false); // idle since start, nothing to give back
    s.request();
    expect(s.sweep().collected).toBe(false); // busy
    s.request();
    expect(s.sweep().collected).toBe(false); // still busy
    expect(s.collections()).toBe(0);
    expect(s.sweep().collected).toBe(true); // quiet now: collect once
    expect(s.sweep().collected).toBe(false); // and not again
    expect(s.collections()).toBe(1);
  });

  test("an idle pass that purged expired entries collects, so their memory can go", () => {
    const s = setup();
    s.articles.set("k", "v");
    expect(s.sweep().collected).toBe(false);
    s.advance(2_000);
    expect(s.sweep()).toEqual({ purged: true, collected: true });
    expect(s.collections()).toBe(1);
  });
});

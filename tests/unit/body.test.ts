import { describe, expect, test } from "bun:test";
import { BodyTooLarge, inheritedKeyIn, jsonNestsDeeperThan, readBoundedText } from "../../src/lib/body.ts";

const enc = new TextEncoder();

/** A stream of `chunks` that records how many were pulled and whether it was cancelled. */
function tracked(chunks: Uint8Array[]) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[state.pulled++];
        if (next) controller.enqueue(next);
        else controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  ); // pull only when read
  return { stream, state };
}

const post = (body: ReadableStream<Uint8Array> | string | null, headers: Record<string, string> = {}) =>
  new Request("http://localhost/x", { method: "POST", body, headers });

describe("readBoundedText", () => {
  test("returns the text of a body under the limit", async () => {
    expect(await readBoundedText(post('{"a":1}'), 100)).toBe('{"a":1}');
  });

  test("a body of exactly the limit is accepted; one byte more is not", async () => {
    expect(await readBoundedText(post("x".repeat(10)), 10)).toBe("x".repeat(10));
    await expect(readBoundedText(post("x".repeat(11)), 10)).rejects.toBeInstanceOf(BodyTooLarge);
  });

  test("the limit counts bytes, not characters", async () => {
    // 4 characters, 12 bytes.
    await expect(readBoundedText(post("€€€€"), 10)).rejects.toBeInstanceOf(BodyTooLarge);
    expect(await readBoundedText(post("€€€"), 9)).toBe("€€€");
  });

  test("no body reads as the empty string", async () => {
    expect(await readBoundedText(post(null), 10)).toBe("");
    expect(await readBoundedText(new Request("http://localhost/x"), 10)).toBe("");
  });

  test("a declared Content-Length over the limit is refused without reading anything", async () => {
    const { stream, state } = tracked([enc.encode("x")]);
    const req = post(stream, { "content-length": "1000" });
    await expect(readBoundedText(req, 100)).rejects.toBeInstanceOf(BodyTooLarge);
    expect(state.pulled).toBe(0);
  });

  test("a chunked body is cut off as soon as it passes the limit, and the stream is cancelled", async () => {
    const chunks = Array.from({ length: 100 }, () => enc.encode("y".repeat(100)));
    const { stream, state } = tracked(chunks);
    await expect(readBoundedText(post(stream), 250)).rejects.toBeInstanceOf(BodyTooLarge);
    expect(state.pulled).toBeLessThan(10);
    expect(state.cancelled).toBe(true);
  });

  test("a lying Content-Length (small) does not let a big body through", async () => {
    const { stream } = tracked(Array.from({ length: 10 }, () => enc.encode("z".repeat(100))));
    const req = post(stream, { "content-length": "5" });
    await expect(readBoundedText(req, 200)).rejects.toBeInstanceOf(BodyTooLarge);
  });

  test("multi-byte characters split across chunks decode correctly", async () => {
    const bytes = enc.encode("héllo €uro 🚀");
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    const { stream } = tracked(chunks);
    expect(await readBoundedText(post(stream), 100)).toBe("héllo €uro 🚀");
  });

  test("invalid UTF-8 becomes replacement characters instead of throwing", async () => {
    const { stream } = tracked([new Uint8Array([0x61, 0xff, 0xfe, 0x62])]);
    expect(await readBoundedText(post(stream), 100)).toBe("a\uFFFD\uFFFDb");
  });
});

describe("jsonNestsDeeperThan", () => {
  test.each([
    ["[]", 1, false],
    ["[[[]]]", 3, false],
    ["[[[]]]", 2, true],
    ['{"a":{"b":[1]}}', 3, false],
    ['{"a":{"b":[1]}}', 2, true],
    ["[[],[],[],[]]", 2, false], // siblings do not add up
    ["1", 0, false],
  ] as const)("%p with max %p → %p", (text, max, expected) => {
    expect(jsonNestsDeeperThan(text, max)).toBe(expected);
  });

  test("brackets inside strings do not count, escaped quotes included", async () => {
    expect(jsonNestsDeeperThan('{"a":"[[[[[[[[{{{{"}', 1)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":"\\"[[[[[["}', 1)).toBe(false);
    // An escaped backslash ends the string at the next quote: the brackets after it count.
    expect(jsonNestsDeeperThan('{"a":"x\\\\","b":[[1]]}', 2)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":"x\\\\","b":[[1]]}', 3)).toBe(false);
  });

  test("100k levels, closed or not, are caught", async () => {
    expect(jsonNestsDeeperThan("[".repeat(100_000), 32)).toBe(true);
    expect(jsonNestsDeeperThan(`${"[".repeat(100_000)}${"]".repeat(100_000)}`, 32)).toBe(true);
    expect(jsonNestsDeeperThan(`${"[".repeat(32)}${"]".repeat(32)}`, 32)).toBe(false);
  });
});

describe("inheritedKeyIn", () => {
  test("finds a key shadowing an Object.prototype member at any depth, in objects and arrays", async () => {
    expect(inheritedKeyIn(JSON.parse('{"a":{"toString":1}}'))).toBe("toString");
    expect(inheritedKeyIn(JSON.parse('[[1,{"b":[{"valueOf":null}]}]]'))).toBe("valueOf");
    expect(inheritedKeyIn(JSON.parse('{"__proto__":{"x":1}}'))).toBe("__proto__");
    expect(inheritedKeyIn(JSON.parse('{"x":{"hasOwnProperty":"y"}}'))).toBe("hasOwnProperty");
  });

  test("plain data passes, including those names as values and keys that merely resemble them", async () => {
    for (const value of [
      null,
      "toString",
      42,
      [],
      { user: { email: "a@b.co", password: "toString" } },
      { tagList: ["constructor", "__proto__"] },
      { ToString: 1, tostring: 2, "toString ": 3, proto: 4 },
    ])
      expect(inheritedKeyIn(value)).toBeUndefined();
  });
});

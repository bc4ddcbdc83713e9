import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configVars, loadConfig } from "../../src/config.ts";

const SECRET = "x".repeat(40);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "quire-config-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The problems loadConfig lists for `env` (fails the test if it does not throw a ConfigError). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig: values", () => {
  test("defaults, converted to their types, frozen", async () => {
    const dataDir = tempDir();
    const c = loadConfig({ NODE_ENV: "test", JWT_SECRET: SECRET, DATA_DIR: dataDir });
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe("0.0.0.0");
    expect(c.JWT_TTL_SECONDS).toBe(2_592_000);
    expect(c.JWT_TTL_SECONDS).toBe(c.SESSION_TTL_SECONDS);
    expect(c.BODY_LIMIT_BYTES).toBe(1_048_576);
    expect(c.LOG_LEVEL).toBe("info");
    expect(c.DEFAULT_ROLE).toBe("editor");
    expect(c.DATABASE_URL).toBe(join(dataDir, "quire.db"));
    expect(c.JWT_SECRET).toBe(SECRET);
    expect(c.JWT_SECRET_GENERATED).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { PORT: number }).PORT = 1;
    }).toThrow();
  });

  test("numbers arrive as strings and are converted; empty strings mean unset", async () => {
    const c = loadConfig({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      DATA_DIR: tempDir(),
      PORT: "8080",
      BODY_LIMIT_BYTES: "2048",
      JWT_TTL_SECONDS: "",
      LOG_LEVEL: "silent",
    });
    expect(c.PORT).toBe(8080);
    expect(c.BODY_LIMIT_BYTES).toBe(2048);
    expect(c.JWT_TTL_SECONDS).toBe(2_592_000);
    expect(c.LOG_LEVEL).toBe("silent");
  });

  test(":memory: is kept as is; a relative DATABASE_URL is made absolute", async () => {
    const mem = loadConfig({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      DATABASE_URL: ":memory:",
      DATA_DIR: tempDir(),
    });
    expect(mem.DATABASE_URL).toBe(":memory:");
    const rel = loadConfig({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      DATABASE_URL: "x/q.db",
      DATA_DIR: tempDir(),
    });
    expect(rel.DATABASE_URL).toBe(join(process.cwd(), "x/q.db"));
  });

  test("CORS_ORIGINS is split and trimmed", async () => {
    const c = loadConfig({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      DATA_DIR: tempDir(),
      CORS_ORIGINS: " https://a.example , http://b.example:8080 ,",
    });
    expect(c.CORS_ORIGINS).toEqual(["https://a.example", "http://b.example:8080"]);
  });
});

describe("loadConfig: problems", () => {
  test("every problem is listed at once, each naming its variable", async () => {
    const problems = problemsOf({
      NODE_ENV: "staging",
      PORT: "http",
      BODY_LIMIT_BYTES: "0",
      LOG_LEVEL: "loud",
      PASSWORD_TIME_COST: "-1",
      DEFAULT_ROLE: "root",
    });
    for (const name of [
      "NODE_ENV",
      "PORT",
      "BODY_LIMIT_BYTES",
      "LOG_LEVEL",
      "PASSWORD_TIME_COST",
      "DEFAULT_ROLE",
    ]) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
  });

  test('"1e3" is 1000 or refused, never 1', async () => {
    let ttl: number | undefined;
    try {
      ttl = loadConfig({
        NODE_ENV: "test",
        JWT_SECRET: SECRET,
        JWT_TTL_SECONDS: "1e3",
        DATA_DIR: tempDir(),
      }).JWT_TTL_SECONDS;
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^JWT_TTL_SECONDS:/)]);
    }
    if (ttl !== undefined) expect(ttl).toBe(1000);
  });

  test.each(["1.5", "99.9", "true"])("a number variable given %p is refused, not truncated", (value) => {
    const problems = problemsOf({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      JWT_TTL_SECONDS: value,
      DATA_DIR: tempDir(),
    });
    expect(problems).toEqual([expect.stringMatching(/^JWT_TTL_SECONDS:/)]);
  });

  test("schema problems and secret/origin problems are listed together", async () => {
    const problems = problemsOf({
      NODE_ENV: "test",
      PORT: "99999",
      JWT_SECRET: "too-short",
      CORS_ORIGINS: "ftp://files.example",
      DATA_DIR: tempDir(),
    });
    expect(problems.some((p) => p.startsWith("PORT:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("JWT_SECRET:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("CORS_ORIGINS:"))).toBe(true);
  });

  test("the error message lists the problems", async () => {
    try {
      loadConfig({ NODE_ENV: "test", PORT: "nope", JWT_SECRET: SECRET });
      throw new Error("expected a ConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain("PORT");
    }
  });

  test("a JWT_SECRET shorter than 32 bytes is refused in every environment", async () => {
    for (const NODE_ENV of ["development", "test", "production"]) {
      const problems = problemsOf({ NODE_ENV, JWT_SECRET: "a".repeat(31), DATA_DIR: tempDir() });
      expect(problems).toEqual([expect.stringMatching(/^JWT_SECRET: .*32 bytes/)]);
    }
  });

  test("production requires JWT_SECRET; 32 bytes is enough, counted in bytes not characters", async () => {
    const problems = problemsOf({ NODE_ENV: "production", DATA_DIR: tempDir() });
    expect(problems).toEqual([expect.stringMatching(/^JWT_SECRET: required/)]);
    const ok = loadConfig({ NODE_ENV: "production", JWT_SECRET: "s".repeat(32), DATA_DIR: tempDir() });
    expect(ok.JWT_SECRET).toHaveLength(32);
    // 11 three-byte characters: 11 characters, 33 bytes.
    const multibyte = loadConfig({ NODE_ENV: "production", JWT_SECRET: "€".repeat(11), DATA_DIR: tempDir() });
    expect(multibyte.JWT_SECRET_GENERATED).toBe(false);
    // 16 two-byte characters would be 16 characters but 32 bytes; 15 are 30 bytes: refused.
    expect(
      problemsOf({ NODE_ENV: "production", JWT_SECRET: "é".repeat(15), DATA_DIR: tempDir() }),
    ).toHaveLength(1);
  });

  test("a CORS origin that is not scheme://host[:port] is refused", async () => {
    for (const origin of ["ftp://x.example", "https://x.example/path", "x.example"]) {
      const problems = problemsOf({
        NODE_ENV: "test",
        JWT_SECRET: SECRET,
        CORS_ORIGINS: origin,
        DATA_DIR: tempDir(),
      });
      expect(problems).toEqual([expect.stringMatching(/^CORS_ORIGINS:/)]);
    }
  });

  test("PASSWORD_MEMORY_COST_KIB below argon2's minimum (8 KiB) is refused at start, not at first login", async () => {
    const problems = problemsOf({
      NODE_ENV: "test",
      JWT_SECRET: SECRET,
      PASSWORD_MEMORY_COST_KIB: "4",
      DATA_DIR: tempDir(),
    });
    expect(problems).toEqual([expect.stringMatching(/^PASSWORD_MEMORY_COST_KIB:/)]);
  });
});

describe("loadConfig: the development secret", () => {
  test("generated into DATA_DIR (mode 0600) when unset, and reused on the next load", async () => {
    const dataDir = join(tempDir(), "nested", "data");
    const first = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    expect(first.JWT_SECRET_GENERATED).toBe(true);
    expect(Buffer.byteLength(first.JWT_SECRET)).toBeGreaterThanOrEqual(32);
    const file = join(dataDir, "jwt-secret");
    expect(readFileSync(file, "utf8").trim()).toBe(first.JWT_SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    expect(second.JWT_SECRET).toBe(first.JWT_SECRET);
    expect(second.JWT_SECRET_GENERATED).toBe(true);
  });

  test("two data directories get two different secrets", async () => {
    const a = loadConfig({ NODE_ENV: "development", DATA_DIR: tempDir() });
    const b = loadConfig({ NODE_ENV: "development", DATA_DIR: tempDir() });
    expect(a.JWT_SECRET).not.toBe(b.JWT_SECRET);
  });

  test("a kept secret that is too short is replaced", async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, "jwt-secret"), "short\n");
    const c = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    expect(c.JWT_SECRET).not.toBe("short");
    expect(Buffer.byteLength(c.JWT_SECRET)).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dataDir, "jwt-secret"), "utf8").trim()).toBe(c.JWT_SECRET);
  });

  test("a configured secret wins and nothing is written", async () => {
    const dataDir = tempDir();
    const c = loadConfig({ NODE_ENV: "development", JWT_SECRET: SECRET, DATA_DIR: dataDir });
    expect(c.JWT_SECRET).toBe(SECRET);
    expect(c.JWT_SECRET_GENERATED).toBe(false);
    expect(() => statSync(join(dataDir, "jwt-secret"))).toThrow();
  });

  test("production never generates one", async () => {
    const dataDir = tempDir();
    problemsOf({ NODE_ENV: "production", DATA_DIR: dataDir });
    expect(() => statSync(join(dataDir, "jwt-secret"))).toThrow();
  });
});

describe("loadConfig: messages name what is allowed", () => {
  test.each([
    [
      "LOG_LEVEL",
      "verbose",
      'LOG_LEVEL: must be one of: fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    ["NODE_ENV", "staging", 'NODE_ENV: must be one of: development, production, test (got "staging")'],
    ["DEFAULT_ROLE", "admin", 'DEFAULT_ROLE: must be one of: editor, viewer (got "admin")'],
    // Unions with an "unset" member list only the values one can set.
    ["RATE_LIMIT_ENABLED", "yes", 'RATE_LIMIT_ENABLED: must be one of: true, false (got "yes")'],
    ["QUIRE_FLAG_COMMENTS", "maybe", 'QUIRE_FLAG_COMMENTS: must be one of: on, off (got "maybe")'],
    [
      "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
      "nah",
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS: must be true or false (got "nah")',
    ],
    ["PASSWORD_TIME_COST", "100", "PASSWORD_TIME_COST: must be a whole number from 1 to 64"],
    ["BODY_LIMIT_BYTES", "0", "BODY_LIMIT_BYTES: must be a whole number of at least 1"],
    ["MAIL_FROM", "ab", 'MAIL_FROM: must be 3 to 254 characters long (got "ab")'],
  ])("%s=%p", (name, value, message) => {
    const problems = problemsOf({ NODE_ENV: "test", JWT_SECRET: SECRET, DATA_DIR: tempDir(), [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toStartWith(message);
    expect(problems[0]).not.toContain("Expected");
  });

  test("every union and boolean in the schema names its allowed values", async () => {
    // Every variable given a value no schema accepts: each message must say what is allowed instead.
    const env: Record<string, string> = { JWT_SECRET: SECRET, DATA_DIR: tempDir() };
    for (const [name, { schema }] of Object.entries(configVars)) {
      const s = schema as { anyOf?: unknown; type?: string };
      if (s.anyOf || s.type === "boolean") env[name] = "\u0001not-a-value";
    }
    const problems = problemsOf(env);
    expect(problems.length).toBeGreaterThan(5);
    for (const p of problems) expect(p).toMatch(/^[A-Z_]+: must be (one of: .+|true or false) \(got /);
  });
});

describe("loadConfig: commands that sign no tokens", () => {
  test("production does not require JWT_SECRET, and a bad one is not even read", async () => {
    const dataDir = tempDir();
    for (const JWT_SECRET of [undefined, "short"]) {
      const c = loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir, JWT_SECRET }, { signsTokens: false });
      expect(c.JWT_SECRET).toBe("");
      expect(c.JWT_SECRET_GENERATED).toBe(false);
    }
    // The default is the signing command's rule.
    expect(problemsOf({ NODE_ENV: "production", DATA_DIR: dataDir })).toEqual([
      expect.stringMatching(/^JWT_SECRET: required/),
    ]);
  });

  test("development generates no secret file for them", async () => {
    const dataDir = tempDir();
    const c = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir }, { signsTokens: false });
    expect(c.JWT_SECRET).toBe("");
    expect(() => statSync(join(dataDir, "jwt-secret"))).toThrow();
  });
});

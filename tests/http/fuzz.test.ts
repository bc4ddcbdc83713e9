/**
 * Schema-driven fuzzing (fast-check) over every route the OpenAPI document lists. Routes, methods, path and
 * query parameters and request-body schemas come from GET /openapi/json, so the test follows the API as it
 * changes. Each run sends one request built from: mostly-valid bodies with hostile values spliced in (wrong
 * types, keys such as toString or __proto__, huge or odd Unicode strings, deep nesting), raw and malformed
 * bodies, path parameters with %, .. and garbage, odd methods, odd headers and bad tokens.
 *
 * Invariant: never a 5xx (503 is allowed only as the envelope), every error is the JSON envelope
 * `{"errors": {"<field>": ["<message>"]}}`, and no error leaks a stack or an internal name.
 *
 * Seedable: FUZZ_SEED=<n> FUZZ_RUNS=<n> bun test tests/http/fuzz.test.ts (a failure prints its seed and path;
 * the default seed is fixed so CI is reproducible; try FUZZ_SEED=$RANDOM FUZZ_RUNS=20000 locally).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  addComment,
  createArticle,
  createTestApp,
  registerUser,
  setRole,
  type TestApp,
  type TestUser,
} from "../helpers/app.ts";
import { backupProblem } from "../ops/helpers.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_205);
const RUNS = Number(process.env.FUZZ_RUNS ?? 700);

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema from the generated document, walked generically
type Schema = any;

interface Route {
  method: string;
  /** OpenAPI template, e.g. /api/articles/{slug}/comments/{id}. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  body?: Schema;
}

/**
 * Routes that cannot be exercised by a single in-process request, each with its reason: anything else in the
 * document is fuzzed.
 */
const SKIPPED: Record<string, string> = {
  "GET /api/realtime": "a WebSocket upgrade: tests/realtime covers the socket protocol",
};

function routesOf(spec: Schema): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries<Schema>(spec.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(operations)) {
      if (`${method.toUpperCase()} ${path}` in SKIPPED) continue;
      const params: Schema[] = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        queryParams: params.filter((p) => p.in === "query").map((p) => p.name),
        body: op.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return routes;
}

/** Follow `$ref`s into the document's components. */
function deref(schema: Schema, spec: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 10 && s && typeof s.$ref === "string"; i++) {
    s = s.$ref
      .split("/")
      .slice(1)
      .reduce((node: Schema, key: string) => node?.[key], spec);
  }
  return s ?? {};
}

/** Build `{"<key>": value}` with an own property of that name (a literal `__proto__` would set the prototype). */
const withOwnKey = (key: string, value: unknown) =>
  JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value) ?? "null"}}`) as object;

const nested = (depth: number): unknown => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

const oddStrings = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "\u202e\u0000",
  "😀👩‍👩‍👧",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "../../etc/passwd",
  "%",
  "%00",
  "%ZZ",
  "..",
  "\\",
  "null",
  "NaN",
  "-1",
  "1e309",
  "9".repeat(400),
  "Привет мир",
  "日本語のタイトル",
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(...oddStrings),
  fc.constant("y".repeat(70_000)),
);

const reservedKeyObject = fc
  .tuple(fc.constantFrom("toString", "valueOf", "__proto__", "constructor", "hasOwnProperty"), fc.jsonValue())
  .map(([key, value]) => withOwnKey(key, value));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: reservedKeyObject },
  { weight: 3, arbitrary: hostileString },
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2, -1, 0),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 10, max: 60 }).map(nested),
);

/** Values shaped like `schema`, with hostile values spliced in at any level. */
function fromSchema(schema: Schema, spec: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schema, spec);
  if (depth > 6) return hostileValue;
  const variants = s.anyOf ?? s.oneOf;
  let fitting: fc.Arbitrary<unknown>;
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  if (variants) fitting = fc.oneof(...variants.map((v: Schema) => fromSchema(v, spec, depth + 1)));
  else if (s.const !== undefined) fitting = fc.constant(s.const);
  else if (s.enum) fitting = fc.constantFrom(...s.enum);
  else if (type === "object") {
    const props: Record<string, Schema> = s.properties ?? {};
    const record = fc.record(
      Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, spec, depth + 1)])),
      { requiredKeys: [] },
    );
    // Sometimes keys the schema does not know (mass assignment: role, id, suspended …).
    fitting = fc
      .tuple(record, fc.option(fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 3 })))
      .map(([r, extra]) => ({ ...(extra ?? {}), ...r }));
  } else if (type === "array")
    fitting = fc.array(fromSchema(s.items ?? {}, spec, depth + 1), { maxLength: 6 });
  else if (type === "string")
    fitting =
      s.format === "email"
        ? fc.emailAddress()
        : fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 80) });
  else if (type === "integer") fitting = fc.integer({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 });
  else if (type === "number") fitting = fc.double({ noNaN: true, noDefaultInfinity: true });
  else if (type === "boolean") fitting = fc.boolean();
  else fitting = fc.jsonValue({ maxDepth: 2 });
  return fc.oneof({ weight: 3, arbitrary: fitting }, { weight: 1, arbitrary: hostileValue });
}

const oddPathSegments = [
  "%",
  "%25",
  "%2e%2e",
  "..",
  ".",
  "%2F",
  "a%2Fb",
  "%00",
  "%ZZ",
  "%E0%A4%A",
  "%F0%9F%98%80",
  "-1",
  "0",
  "99999999999999999999",
  "1e3",
  "x".repeat(3000),
  "null",
  "__proto__",
  "constructor",
];

const headerSafe = fc.string({ maxLength: 60 }); // fast-check 4: printable ASCII by default

/**
 * Rows the requests can reach, kept alive: runs may log the users out, suspend or demote them, rename them
 * or delete the article, and a fuzz whose tokens all died would only test the 401 path. Requests name them
 * symbolically (`@user`, `@slug` …) and get the current value when they are sent.
 */
interface Fixture {
  user: TestUser;
  admin: TestUser;
  slug: string;
  commentId: number;
}

/** Writes after which the fixture may need repair. */
const FIXTURE_CHANGING = /logout|\/api\/user$|\/admin\/users|\/articles\/|\/admin\/(articles|comments)/;

function resolveSymbols(value: string, f: Fixture): string {
  return value
    .replace("@user-token", f.user.token)
    .replace("@admin-token", f.admin.token)
    .replace("@slug", f.slug)
    .replace("@username", f.user.username)
    .replace("@admin-name", f.admin.username)
    .replace("@comment", String(f.commentId));
}

function requestArbitrary(routes: Route[], spec: Schema) {
  const tokens = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 6,
      arbitrary: fc.constantFrom("Token @user-token", "Bearer @admin-token", "Token @admin-token"),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        headerSafe,
        fc.constantFrom("Token", "Bearer ", "Basic dXNlcjpwYXNz", `Token ${"a".repeat(5000)}`, "Token a.b.c"),
        headerSafe.map((s) => `Token ${s}`),
        fc.constant("Token @user-tokenabc"),
      ),
    },
  );
  const headers = fc.record(
    {
      authorization: tokens,
      "content-type": fc.oneof(
        { weight: 6, arbitrary: fc.constant("application/json") },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "application/json; charset=utf-8",
            "application/vnd.api+json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=utf-16",
            "",
          ),
        },
      ),
      "if-none-match": fc.oneof(headerSafe, fc.constantFrom("*", 'W/"x"', '"a", W/"b"')),
      "accept-encoding": fc.oneof(
        headerSafe,
        fc.constantFrom("gzip", "br;q=0.5, gzip;q=abc", "*;q=0", "identity;q=0", "gzip, deflate, br, zstd"),
      ),
      "x-request-id": headerSafe,
      origin: fc.oneof(headerSafe, fc.constantFrom("https://evil.example", "null")),
      "x-forwarded-for": headerSafe,
      "last-event-id": headerSafe,
      "content-encoding": fc.constantFrom("gzip", "br", "identity"),
    },
    { requiredKeys: ["content-type"] },
  );
  // Routes with a body are where validation lives: they are drawn three times as often.
  const weighted = routes.map((route) => ({ weight: route.body ? 3 : 1, arbitrary: fc.constant(route) }));
  return fc.oneof(...weighted).chain((route) => {
    const params = fc.tuple(
      ...route.pathParams.map((name) =>
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...knownValues(name)) },
          { weight: 1, arbitrary: fc.constantFrom(...oddPathSegments) },
          { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }).map(encodeURIComponent) },
          { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(encodeURIComponent) },
        ),
      ),
    );
    const query = fc.array(
      fc.tuple(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...route.queryParams, "limit") }, headerSafe),
        fc.oneof(hostileString, fc.integer().map(String), fc.constantFrom("%", "%ZZ", "-5", "1e3", "true")),
      ),
      { maxLength: 4 },
    );
    const body = fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      {
        weight: route.body ? 8 : 1,
        arbitrary: fromSchema(route.body ?? {}, spec).map((v) => JSON.stringify(v)),
      },
      { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? "null") },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constantFrom('{"user":', "{bad json}", "[".repeat(5000), "\u0000", "null") },
    );
    const method = fc.oneof(
      { weight: 12, arbitrary: fc.constant(route.method) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND"),
      },
    );
    return fc.record({ route: fc.constant(route), method, params, query, body, headers });
  });
}

/** Path-parameter values that reach real rows (an existing slug, username, comment id). */
function knownValues(name: string): string[] {
  if (name === "slug") return ["@slug"];
  if (name === "username") return ["@username", "@admin-name"];
  if (name === "id") return ["@comment", "1"];
  // Not maintenance or registration: those would close the API to the rest of the run.
  if (name === "name") return ["comments", "no-such-flag"];
  return ["x"];
}

function buildUrl(route: Route, params: string[], query: [string, string][], f: Fixture): string {
  let path = route.path;
  route.pathParams.forEach((name, i) => {
    path = path.replace(`{${name}}`, resolveSymbols(params[i]!, f));
  });
  const search = query.map(
    ([k, v]) => `${encodeURIComponent(k)}=${v.startsWith("%") ? v : encodeURIComponent(v.toWellFormed())}`,
  );
  return `http://localhost${path}${search.length ? `?${search.join("&")}` : ""}`;
}

const LEAKS = ["    at ", "node_modules", ".ts:", "TypeError", "SyntaxError", "SQLITE"];

describe("fuzzing every route of the OpenAPI document", () => {
  let t: TestApp;
  let spec: Schema;
  let fixture: Fixture;
  const dataDir = mkdtempSync(join(tmpdir(), "quire-fuzz-"));
  /** The documented 501 of a Postgres run whose pg_dump cannot dump its server (tests/ops/helpers.ts). */
  let noBackups = false;

  beforeAll(async () => {
    noBackups = (await backupProblem()) !== undefined;
    // CORS on, so preflights are fuzzed too; a data directory of its own for anything written to disk.
    t = await createTestApp({ CORS_ORIGINS: "*", DATA_DIR: dataDir });
    const user = await registerUser(t);
    const admin = await registerUser(t);
    await setRole(t, admin.id, "admin");
    const article = await createArticle(t, user.token, { tagList: ["fuzz"] });
    const comment = await addComment(t, user.token, article.slug);
    fixture = { user, admin, slug: article.slug, commentId: comment.id };
    spec = (await t.request("GET", "/openapi/json")).body;
  });

  /** Bring back whatever a run ended: sessions, roles, the article, a renamed user's name. */
  async function repairFixture() {
    const me = await t.request("GET", "/api/user", { token: fixture.user.token });
    if (me.status === 200) {
      fixture.user.username = me.body.user.username;
      // An admin request in the run may have demoted the user to a role that cannot write.
      await setRole(t, fixture.user.id, "editor");
    } else fixture.user = await registerUser(t);
    const admin = await t.request("GET", "/api/admin/users?limit=1", { token: fixture.admin.token });
    if (admin.status !== 200) {
      fixture.admin = await registerUser(t);
      await setRole(t, fixture.admin.id, "admin");
    } else {
      const row = await t.request("GET", "/api/user", { token: fixture.admin.token });
      fixture.admin.username = row.body.user.username;
    }
    if ((await t.request("GET", `/api/articles/${fixture.slug}/comments`)).status !== 200) {
      fixture.slug = (await createArticle(t, fixture.user.token, { tagList: ["fuzz"] })).slug;
      // A run may have switched comments off (a 403 then): keep the old id, the route answers 404.
      const comment = await t.request("POST", `/api/articles/${fixture.slug}/comments`, {
        token: fixture.user.token,
        body: { comment: { body: "fuzz" } },
      });
      if (comment.status === 201) fixture.commentId = comment.body.comment.id;
    }
  }
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("the document lists the API's routes, and each is fuzzed unless skipped with a reason", async () => {
    const routes = routesOf(spec);
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      "POST /api/users/login",
      "PUT /api/articles/{slug}",
      "PATCH /api/admin/users/{username}",
    ])
      expect(names).toContain(expected);
    expect(routes.filter((r) => r.body).length).toBeGreaterThanOrEqual(8);
  });

  test(`no request is a 5xx or leaves the error envelope (seed ${SEED}, ${RUNS} runs)`, {
    timeout: 120_000,
  }, async () => {
    const routes = routesOf(spec);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(routes, spec), async (r) => {
        const url = buildUrl(r.route, r.params, r.query, fixture);
        const headers = new Headers();
        for (const [k, v] of Object.entries(r.headers))
          if (v !== undefined) headers.set(k, resolveSymbols(v, fixture));
        let request: Request;
        try {
          const bodyAllowed = r.method !== "GET" && r.method !== "HEAD";
          request = new Request(url, { method: r.method, headers, body: bodyAllowed ? r.body : undefined });
        } catch {
          return; // a request fetch itself refuses to build cannot reach the server either
        }
        const res = await t.app.handle(request);
        seen.add(`${r.route.method} ${r.route.path}`);
        if (!["GET", "HEAD", "OPTIONS"].includes(r.method) && FIXTURE_CHANGING.test(r.route.path))
          await repairFixture();
        const type = res.headers.get("content-type") ?? "";
        if (type.startsWith("text/event-stream")) {
          await res.body?.cancel();
          return;
        }
        const text = await res.text();
        const where = `${r.method} ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        const documented501 = noBackups && res.status === 501 && r.route.path === "/api/admin/backups";
        if (res.status >= 500 && res.status !== 503 && !documented501)
          throw new Error(`server error: ${where}`);
        if (res.status < 400 || r.method === "HEAD") return;
        for (const leak of LEAKS) if (text.includes(leak)) throw new Error(`leak (${leak}): ${where}`);
        if (!type.startsWith("application/json")) throw new Error(`error without JSON: ${where}`);
        const body = JSON.parse(text);
        const fields = body && typeof body === "object" ? body.errors : undefined;
        const ok =
          Object.keys(body).length === 1 &&
          fields &&
          typeof fields === "object" &&
          Object.keys(fields).length > 0 &&
          Object.values(fields).every((m) => Array.isArray(m) && m.every((x) => typeof x === "string"));
        if (!ok) throw new Error(`error outside the envelope: ${where}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Enough runs reach most routes (a route list change shows up here, not as silent lack of coverage).
    expect(seen.size).toBeGreaterThan(routes.length * 0.8);
  });
});

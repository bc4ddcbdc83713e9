/**
 * JSON-only bodies with a size limit. Elysia would otherwise parse form-urlencoded and multipart bodies into
 * JSON routes and buffer any size; here every body-reading route accepts `application/json` (or `+json`)
 * only (415 otherwise), reads at most BODY_LIMIT_BYTES (413), and answers 422 for malformed or too deeply
 * nested JSON, for objects with keys that shadow inherited members (`toString`, `__proto__`, …), and for NUL
 * characters in any string.
 */
import { Elysia } from "elysia";
import { AppError } from "../errors.ts";
import {
  BodyTooLarge,
  inheritedKeyIn,
  jsonNestsDeeperThan,
  nulFieldIn,
  readBoundedText,
} from "../lib/body.ts";

/** RealWorld bodies nest three levels; anything past this is an attack on the parser or validator. */
const MAX_JSON_DEPTH = 32;

const tooLarge = (limit: number) => new AppError(413, { body: [`is too large (maximum is ${limit} bytes)`] });

export const bodyPlugin = (limit: number) =>
  new Elysia({ name: "quire/body", seed: limit })
    .onRequest(({ request }) => {
      // Refuse a declared oversize body before anything reads it, on every route.
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > limit) throw tooLarge(limit);
    })
    .onParse({ as: "global" }, async ({ request, contentType }) => {
      const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
      // Body-less requests (follow, favorite, deletes) reach here too: no type and no bytes is no body.
      if (type === "" && (request.body === null || request.headers.get("content-length") === "0")) return;
      if (type !== "application/json" && !type.endsWith("+json")) {
        throw new AppError(415, { body: ["must be sent with Content-Type: application/json"] });
      }
      let text: string;
      try {
        text = await readBoundedText(request, limit);
      } catch (err) {
        if (err instanceof BodyTooLarge) throw tooLarge(limit);
        throw new AppError(400, { body: ["could not be read"] });
      }
      // An empty JSON body is no body (clients send the header on body-less POSTs too); routes that need
      // one then fail validation with a field error.
      if (text.trim() === "") return {};
      if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
        throw new AppError(422, { body: [`is nested too deeply (maximum depth is ${MAX_JSON_DEPTH})`] });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Includes RangeError from absurdly deep nesting: still the client's malformed input.
        throw new AppError(422, { body: ["is not valid JSON"] });
      }
      // Elysia's validation message interpolates a mistyped value (`${value}`): an object whose own toString
      // is not a function threw there, a 500 from any route with a string field. No body needs such keys.
      const key = inheritedKeyIn(parsed);
      if (key !== undefined) throw new AppError(422, { body: [`must not use the reserved key "${key}"`] });
      // No field takes a NUL, and Postgres refuses one in any text: the same 422 on every engine.
      const nul = nulFieldIn(text, parsed);
      if (nul !== undefined) throw new AppError(422, { [nul]: ["is invalid"] });
      return parsed;
    });

/**
 * The Vary header, built up by the plugins whose answers depend on a request header: CORS with an allow-list
 * (Origin), HTTP caching for API reads (Authorization), compression (Accept-Encoding). Each adds only what its
 * answer really depends on; `Vary: *` is never sent, because it forbids every cache (the browser's included) from
 * reusing an answer, ETag'd or not.
 */

/** `current` with `field` added, unless already listed (field names compare case-insensitively). */
export function varyWith(current: unknown, field: string): string {
  if (current === undefined || current === null || current === "") return field;
  const listed = String(current);
  const lower = field.toLowerCase();
  for (const part of listed.split(",")) if (part.trim().toLowerCase() === lower) return listed;
  return `${listed}, ${field}`;
}

/** Add `field` to the Vary of the response headers Elysia is collecting. */
export function addVary(headers: Record<string, unknown>, field: string): void {
  headers.vary = varyWith(headers.vary, field);
}

/** The largest page any list answers (RealWorld clients ask for 10 or 20). */
export const MAX_PAGE_SIZE = 100;

/**
 * A page from query strings already validated as digit strings (src/http/model.ts `pagination`): `limit`
 * (default `defaultLimit`, at most `maxLimit`) and `offset` (default 0).
 */
export function pageOf(
  query: { limit?: string; offset?: string },
  defaultLimit = 20,
  maxLimit: number = MAX_PAGE_SIZE,
) {
  return {
    limit: Math.min(query.limit === undefined ? defaultLimit : Number(query.limit), maxLimit),
    offset: query.offset === undefined ? 0 : Number(query.offset),
  };
}

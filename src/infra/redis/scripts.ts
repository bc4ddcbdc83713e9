/**
 * The Lua scripts a node runs on Redis. Each is atomic (Redis runs one script at a time), so what would be a
 * read-modify-write race between nodes is one step. Time is always the server's (`TIME`): the nodes' clocks
 * never need to agree. Numbers that may pass 2^31 are formatted with `%d`/`%.3f`: Lua's own tostring() of a
 * large number is an exponent ("1.7e+15").
 *
 * Key names are passed in KEYS where the script knows them; the scripts that walk the member nodes build
 * their keys from a prefix (a single Redis or Valkey server, not a Redis Cluster).
 */
import { script } from "./link.ts";

/** Redis time in milliseconds (with microseconds as the fraction). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

/**
 * The position counter, created (on first use, or after Redis lost its data) at the server time in µs, so
 * every position handed out afterwards is above every one handed out before (clients holding those get a
 * reset, never someone else's events under reused numbers).
 */
const ENSURE_SEQ = `if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], string.format('%d', math.floor(now) * 1000))
end`;

/**
 * Realtime: sequence one message, keep it in its topic's stream and publish it.
 * KEYS: seq, stream, marks. ARGV: maxlen, ttlMs, before, after, header, channel.
 * Stream ids are `<seq>-0`; a mark (time → position) per second lets `RESUME` find the position below which
 * everything is older than the history TTL. Published as `<seq>\n<header>\n<message>`.
 */
export const APPEND = script(`${NOW}
${ENSURE_SEQ}
local seq = string.format('%d', redis.call('INCR', KEYS[1]))
local message = ARGV[3] .. seq .. ARGV[4]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'h', ARGV[5], 'm', message)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if #last == 0 or now - tonumber(last[2]) >= 1000 then
  redis.call('ZADD', KEYS[3], string.format('%.3f', now), seq)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('%.3f', now - 2 * tonumber(ARGV[2])))
  redis.call('PEXPIRE', KEYS[3], 2 * tonumber(ARGV[2]))
end
redis.call('PUBLISH', ARGV[6], seq .. '\\n' .. ARGV[5] .. '\\n' .. message)
return seq`);

/**
 * Realtime: the position now and, per topic, what was published after `since` (or false: reset).
 * KEYS: seq, marks, then one stream per topic. ARGV: ttlMs, then one `since` per topic ('' for none).
 * A topic's floor (the highest position that may be gone) is the larger of: the position at the history
 * TTL (everything older has expired, whether or not its stream still exists) and, if MAXLEN trimmed the
 * stream (entries-added > length), the position just below its first entry. Resuming is possible exactly
 * when floor ≤ since ≤ now (a reset too many for a position among the trimmed ones, never one too few).
 */
export const RESUME = script(`${NOW}
${ENSURE_SEQ}
local current = tonumber(redis.call('GET', KEYS[1]))
local out = { string.format('%d', current) }
local mark = redis.call('ZRANGEBYSCORE', KEYS[2], string.format('%.3f', now - tonumber(ARGV[1])), '+inf', 'LIMIT', 0, 1)
local aged = current
if #mark > 0 then aged = tonumber(mark[1]) - 1 end
for i = 3, #KEYS do
  local since = ARGV[i - 1]
  if since == '' then
    out[#out + 1] = false
  else
    since = tonumber(since)
    local floor = aged
    if redis.call('EXISTS', KEYS[i]) == 1 then
      local info = redis.call('XINFO', 'STREAM', KEYS[i])
      local f = {}
      for j = 1, #info, 2 do f[info[j]] = info[j + 1] end
      local deleted = tonumber(string.match(f['max-deleted-entry-id'], '^(%d+)'))
      -- Trimming does not move max-deleted-entry-id: what it took lies below the first entry kept.
      if tonumber(f['entries-added']) > tonumber(f['length']) then
        local first = tonumber(string.match(f['recorded-first-entry-id'], '^(%d+)'))
        if first - 1 > deleted then deleted = first - 1 end
      end
      if deleted > floor then floor = deleted end
    end
    if since < floor or since > current then
      out[#out + 1] = 'reset'
    else
      out[#out + 1] = redis.call('XRANGE', KEYS[i], '(' .. string.format('%d', since) .. '-0', '+')
    end
  end
end
return out`);

/**
 * Events: publish a committed unit's events, and list the member nodes that must acknowledge them.
 * KEYS: nodes. ARGV: channel, payload. Returns { now, node, expiry, node, expiry, … } (ms, server time).
 */
export const REPLICATE = script(`${NOW}
local live = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.3f', now), '+inf', 'WITHSCORES')
redis.call('PUBLISH', ARGV[1], ARGV[2])
local out = { string.format('%.3f', now) }
for i = 1, #live do out[#out + 1] = live[i] end
return out`);

/**
 * Membership: this node is a member until now + ttl; expired members are dropped (with their connection
 * counts, which expire on their own too); then a heartbeat on the node's own channel, whose echo proves
 * that the subscriber connection still delivers. KEYS: nodes, this node's connection counts.
 * ARGV: node id, ttlMs, channel, message. Returns { members, now }.
 */
export const HEARTBEAT = script(`${NOW}
redis.call('ZADD', KEYS[1], string.format('%.3f', now + tonumber(ARGV[2])), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.3f', now))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return { redis.call('ZCARD', KEYS[1]), string.format('%.3f', now) }`);

/** Leave the cluster at once (a graceful shutdown): writers stop waiting for this node. */
export const LEAVE = script(`redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`);

/**
 * Connection caps over the cluster: the sum of every member's counts (and this node's) for the address and
 * the user, checked against the limits; with ARGV[7] = '1' the connection is counted in this node's hash.
 * KEYS: nodes, this node's counts. ARGV: prefix of count keys, this node's id, ip field, user field ('' if
 * anonymous), ip limit, user limit, acquire, ttlMs. Returns 'ok', 'ip' or 'user'.
 */
export const CAPS = script(`${NOW}
local nodes = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.3f', now), '+inf')
local seen, ip, user = false, 0, 0
local function add(key)
  ip = ip + tonumber(redis.call('HGET', key, ARGV[3]) or '0')
  if ARGV[4] ~= '' then user = user + tonumber(redis.call('HGET', key, ARGV[4]) or '0') end
end
for _, node in ipairs(nodes) do
  if node == ARGV[2] then seen = true end
  add(ARGV[1] .. node)
end
if not seen then add(KEYS[2]) end
if ip >= tonumber(ARGV[5]) then return 'ip' end
if ARGV[4] ~= '' and user >= tonumber(ARGV[6]) then return 'user' end
if ARGV[7] == '1' then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[4], 1) end
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
return 'ok'`);

/** A connection closed: one fewer for its address and user. KEYS: this node's counts. ARGV: fields. */
export const RELEASE = script(`for i = 1, #ARGV do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1`);

/**
 * Replace this node's counts with its own truth (after an outage, when releases may have been lost).
 * KEYS: this node's counts. ARGV: ttlMs, then field, count, field, count…
 */
export const SYNC_COUNTS = script(`redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`);

/**
 * GCRA (src/lib/gcra.ts) on the server's clock: one theoretical arrival time per key, shared by every node.
 * KEYS: the key. ARGV: emission interval (window / quota, ms), window (ms).
 * Returns { allowed (1/0), remaining, resetMs, retryAfterMs } as strings.
 */
export const GCRA = script(`${NOW}
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local epsilon = 1e-6
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - window
if allow_at - now > epsilon then
  return { '0', '0', string.format('%.3f', tat - now), string.format('%.3f', allow_at - now) }
end
redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', math.ceil(nxt - now))
local remaining = math.floor((now + window - nxt) / interval + epsilon)
if remaining < 0 then remaining = 0 end
return { '1', tostring(remaining), string.format('%.3f', nxt - now), '0' }`);

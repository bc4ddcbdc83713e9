-- wrk script for workloads that need more than one fixed request: rotates through paths and tokens and
-- numbers request bodies so every write is distinct. Configured by environment variables (bench/lib/load.ts):
--   BENCH_METHOD  GET or POST
--   BENCH_PATHS   file with one request path per line
--   BENCH_TOKENS  file with one access token per line (optional)
--   BENCH_BODY    JSON body template; every "{n}" becomes the request's sequence number (optional)
-- With P paths and T tokens, request n uses path n mod P and token n mod T: when P and T are coprime, the
-- (token, path) pairs repeat only after P*T requests, so favourites keep being new favourites.
local method = os.getenv("BENCH_METHOD") or "GET"
local template = os.getenv("BENCH_BODY")

local function lines(file)
  local out = {}
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then out[#out + 1] = line end
    end
  end
  return out
end

local paths = lines(os.getenv("BENCH_PATHS"))
local tokens = lines(os.getenv("BENCH_TOKENS"))
local n = 0

request = function()
  n = n + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Token " .. tokens[(n % #tokens) + 1] end
  local body = nil
  if template ~= nil and template ~= "" then
    headers["Content-Type"] = "application/json"
    body = template:gsub("{n}", tostring(n))
  end
  return wrk.format(method, paths[(n % #paths) + 1], headers, body)
end

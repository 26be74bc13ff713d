-- wrk script for `npm run bench` (scripts/bench/loadgen.ts sets these variables):
--   BENCH_METHOD     request method (default GET)
--   BENCH_BODY_FILE  file whose bytes are the request body (optional)
--   BENCH_KEYS_FILE  one API key per line: each request uses the next one, once
--                    (the cold D1 row); past the end it wraps and counts `keysReused`
-- Prints one line `BENCH_RESULT {json}` when done. No response() callback:
-- it would make wrk copy every body (1 MiB rows) into Lua.

local method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE") or ""
local keys_file = os.getenv("BENCH_KEYS_FILE") or ""

wrk.method = method
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Per-thread state (each thread has its own Lua state).
local keys = nil
local next_key = 1
local sent = 0
reused = 0

function init(args)
  if keys_file ~= "" then
    keys = {}
    local all = {}
    for line in io.lines(keys_file) do
      if line ~= "" then table.insert(all, line) end
    end
    -- Threads take disjoint slices, so no key is sent twice.
    local n = tonumber(os.getenv("BENCH_THREADS") or "1")
    for i = index + 1, #all, n do table.insert(keys, all[i]) end
  end
end

if keys_file ~= "" then
  function request()
    local key = keys[next_key]
    sent = sent + 1
    if sent > #keys then reused = reused + 1 end
    next_key = next_key + 1
    if next_key > #keys then next_key = 1 end
    wrk.headers["Authorization"] = "Bearer " .. key
    return wrk.format(nil, nil, nil, nil)
  end
end

local function json_number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local reused_total = 0
  for _, t in ipairs(threads) do
    reused_total = reused_total + (tonumber(t:get("reused")) or 0)
  end
  local e = summary.errors
  io.write("BENCH_RESULT {")
  io.write('"durationUs":', summary.duration, ",")
  io.write('"requests":', summary.requests, ",")
  io.write('"bytes":', summary.bytes, ",")
  io.write('"errors":{"connect":', e.connect, ',"read":', e.read, ',"write":', e.write,
    ',"status":', e.status, ',"timeout":', e.timeout, "},")
  io.write('"latencyUs":{"min":', json_number(latency.min), ',"mean":', json_number(latency.mean),
    ',"stdev":', json_number(latency.stdev), ',"max":', json_number(latency.max),
    ',"p50":', json_number(latency:percentile(50)), ',"p90":', json_number(latency:percentile(90)),
    ',"p99":', json_number(latency:percentile(99)), ',"p999":', json_number(latency:percentile(99.9)), "},")
  io.write('"keysReused":', reused_total)
  io.write("}\n")
end

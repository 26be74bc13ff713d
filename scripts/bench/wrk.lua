-- wrk script of `npm run bench` (scripts/bench/processes.ts sets these variables):
--   BENCH_METHOD     request method (default GET)
--   BENCH_BODY_FILE  file whose bytes are the request body (optional)
--   BENCH_KEYS_FILE  one API key per line: each request uses the next one, once (row 5);
--                    past the end it wraps and counts keysReused
-- One thread only (the bench runs wrk with -t1). Prints `BENCH_RESULT {json}` when done.
-- No response() callback: it would make wrk copy every body (1 MiB rows) into Lua.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE") or ""
local keys_file = os.getenv("BENCH_KEYS_FILE") or ""
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local thread_of = nil
function setup(thread) thread_of = thread end

local keys, next_key, sent = {}, 1, 0
reused = 0
if keys_file ~= "" then
  function init(args)
    for line in io.lines(keys_file) do
      if line ~= "" then table.insert(keys, line) end
    end
  end
  function request()
    sent = sent + 1
    if sent > #keys then reused = reused + 1 end
    wrk.headers["Authorization"] = "Bearer " .. keys[next_key]
    next_key = next_key % #keys + 1
    return wrk.format(nil, nil, nil, nil)
  end
end

local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"durationUs":%d,"requests":%d,"non2xx":%d,"socketErrors":%d,"timeouts":%d,' ..
      '"p50Us":%s,"p99Us":%s,"keysReused":%d}\n',
    summary.duration, summary.requests, e.status, e.connect + e.read + e.write, e.timeout,
    num(latency:percentile(50)), num(latency:percentile(99)), tonumber(thread_of and thread_of:get("reused")) or 0))
end

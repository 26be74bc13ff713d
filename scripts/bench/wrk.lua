-- wrk script of `npm run bench` (scripts/bench/processes.ts sets these variables):
--   BENCH_METHOD     request method (default GET)
--   BENCH_BODY_FILE  file whose bytes are the request body (optional)
-- Prints `BENCH_RESULT {json}` when done. No response() callback: it would make
-- wrk copy every body (1 MiB rows) into Lua.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE") or ""
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"durationUs":%d,"requests":%d,"non2xx":%d,"socketErrors":%d,"timeouts":%d,"p50Us":%s,"p99Us":%s}\n',
    summary.duration, summary.requests, e.status, e.connect + e.read + e.write, e.timeout,
    num(latency:percentile(50)), num(latency:percentile(99))))
end

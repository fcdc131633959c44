-- Shared by the wrk scripts of bench/: per-thread status counting, and a summary line
-- after the run that bench/run.sh parses:
--   STATUS 200=1234 409=5
--   LATENCY p50_ms=1.234 p90_ms=2.345 p99_ms=4.567 max_ms=9.999
-- Each script that loads this defines request() and calls common_init(args).
threads = {}
statuses = {}
tid = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function common_init(token)
  statuses = {}
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function read_pairs(file)
  local t = {}
  for line in io.lines(file) do
    local a, b = line:match("(%S+)%s+(%S+)")
    if a then table.insert(t, {a, b}) end
  end
  return t
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
    end
  end
  local keys = {}
  for k in pairs(total) do table.insert(keys, k) end
  table.sort(keys)
  io.write("STATUS")
  for _, k in ipairs(keys) do io.write(string.format(" %d=%d", k, total[k])) end
  io.write("\n")
  io.write(string.format("LATENCY p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end

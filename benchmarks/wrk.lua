-- wrk script of benchmarks/throughput.py:
--   wrk ... -s wrk.lua URL -- METHOD PATH LINES_FILE
-- Each line of LINES_FILE is "<bearer token>\t<body>" (either may be empty); requests take the
-- lines in turn, so the load spreads over many users. The summary is printed as one JSON line.
local method, path
local lines = {}
local n = 0

function init(args)
  method, path = args[1], args[2]
  for line in io.lines(args[3]) do
    local token, body = line:match("^([^\t]*)\t(.*)$")
    local headers = {["Accept"] = "application/json"}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    lines[#lines + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  n = n + 1
  return lines[(n % #lines) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

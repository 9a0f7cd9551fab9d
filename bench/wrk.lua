-- wrk script for bench/run.py.
--   BENCH_PATHS         a file of request paths, one a line; each request takes one at random
--   BENCH_MAX_REQUESTS  each thread stops after this many responses (the run is bounded in
--                       requests as well as in time)
-- The results are printed as one line of JSON starting with "BENCH_JSON ".

local paths = {}
local answered = 0
local limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + #paths)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.status, errors.timeout))
end

-- wrk script for bench/http_throughput.sh: GET /api/wallet, each request with the
-- next user token of its thread (NW_DATA: one token a line; NW_THREADS: wrk's -t;
-- thread k takes lines k, k+T, k+2T, ...). done() prints
-- "RESULT ok=N bad=N seconds=S rate=R" (2xx answers per second).
local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("tid", created)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("NW_THREADS"))
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("NW_DATA")) do
    if i % nthreads == tid - 1 then
      table.insert(reqs, wrk.format("GET", "/api/wallet", { ["Authorization"] = "Bearer " .. line }))
    end
    i = i + 1
  end
  k = 0
end

function request()
  k = k % #reqs + 1
  return reqs[k]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local bad = e.status + e.connect + e.read + e.write + e.timeout
  local ok = summary.requests - e.status
  io.write(string.format("RESULT ok=%d bad=%d seconds=%.3f rate=%.2f\n", ok, bad, seconds, ok / seconds))
end

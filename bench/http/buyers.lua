-- wrk script for bench/http_throughput.sh: one thread = one connection = one buyer.
-- Each buyer buys its own list of numbers one after another, then stops.
--   NW_MODE   shim | direct
--   NW_DATA   one line per buyer: "[TOKEN] +1NUMBER +1NUMBER ..." (TOKEN in shim mode only)
--   NW_DONE   a file each buyer appends a line to when it has finished its list
--   NW_PATH, NW_AUTH   (direct mode) the fake's IncomingPhoneNumbers path and Basic header
-- done() prints "RESULT ok=N bad=N seconds=S rate=R": 201s, other answers, the window
-- from the first request sent to the last answer received (monotonic clock), 201s/s.
local ffi = require("ffi")
ffi.cdef [[
struct nw_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk_id, struct nw_timespec *tp);
]]
local ts = ffi.new("struct nw_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: one clock for every thread
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("buyer", created)
  table.insert(threads, thread)
end

function init(args)
  mode = os.getenv("NW_MODE")
  numbers = {}
  local i = 0
  for line in io.lines(os.getenv("NW_DATA")) do
    i = i + 1
    if i == buyer then
      for w in line:gmatch("%S+") do table.insert(numbers, w) end
      break
    end
  end
  if mode == "shim" then
    headers = { ["Authorization"] = "Bearer " .. table.remove(numbers, 1),
                ["Content-Type"] = "application/json" }
    path = "/api/numbers/purchase"
  else
    headers = { ["Authorization"] = os.getenv("NW_AUTH"),
                ["Content-Type"] = "application/x-www-form-urlencoded" }
    path = os.getenv("NW_PATH")
  end
  idx, ok, bad, t_first, t_last, answered = 1, 0, 0, 0, 0, 0
  bad_sample = ""
end

function request()
  -- wrk calls request() once before the threads start (to check the script);
  -- the last call before the first answer is the real first send.
  if answered == 0 then t_first = now() end
  local n = numbers[idx] or numbers[#numbers]
  local body
  if mode == "shim" then
    body = '{"phoneNumber":"' .. n .. '","displayName":"bench"}'
  else
    body = "PhoneNumber=" .. n:gsub("%+", "%%2B") .. "&FriendlyName=bench"
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  t_last = now()
  answered = answered + 1
  if status == 201 then
    ok = ok + 1
  else
    bad = bad + 1
    bad_sample = status .. " " .. tostring(body):sub(1, 300)
  end
  idx = idx + 1
  if idx > #numbers then
    local f = io.open(os.getenv("NW_DONE"), "a")
    if f then f:write(buyer, "\n"); f:close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ok_, bad_, first, last, sample = 0, 0, math.huge, 0, ""
  for _, t in ipairs(threads) do
    ok_ = ok_ + t:get("ok")
    bad_ = bad_ + t:get("bad")
    local f, l = t:get("t_first"), t:get("t_last")
    if f > 0 and f < first then first = f end
    if l > last then last = l end
    if t:get("bad_sample") ~= "" then sample = t:get("bad_sample") end
  end
  local seconds = (last > first) and (last - first) or 0
  io.write(string.format("RESULT ok=%d bad=%d seconds=%.3f rate=%.2f\n", ok_, bad_, seconds,
                         seconds > 0 and ok_ / seconds or 0))
  if sample ~= "" then io.write("BAD_SAMPLE ", (sample:gsub("\n", " ")), "\n") end
end

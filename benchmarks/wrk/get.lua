-- GET a path, optionally with a bearer token and a path suffix taken in turn from a file.
-- wrk -s get.lua URL -- PATH [TOKEN|-] [SUFFIX_FILE|-] [HEADER: value]
-- With TOKEN "@file", one token per line is used in turn (e.g. many users' access tokens).
local path, token, suffix_file, extra
local suffixes, tokens = {}, {}
local i = 0

local function lines(name)
  local out = {}
  for line in io.lines(name) do if #line > 0 then out[#out + 1] = line end end
  return out
end

function init(args)
  path, token, suffix_file, extra = args[1], args[2] or "-", args[3] or "-", args[4]
  if suffix_file ~= "-" then suffixes = lines(suffix_file) end
  if token:sub(1, 1) == "@" then tokens = lines(token:sub(2)) elseif token ~= "-" then tokens = {token} end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  i = math.random(1, 100000)
end

function request()
  i = i + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1] end
  if extra then
    local name, value = extra:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local p = path
  if #suffixes > 0 then p = p .. suffixes[(i % #suffixes) + 1] end
  return wrk.format("GET", p, headers)
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end

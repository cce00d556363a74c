-- POST bodies taken in turn from a file (one body per line), with a bearer token or a session.
-- wrk -s post.lua URL -- PATH BODY_FILE CONTENT_TYPE [TOKEN|-] [SESSION_FILE|-]
-- SESSION_FILE lines: "sessionid csrftoken" (a citizen session: cookie + X-CSRFToken).
-- With a session file the body of line k goes with session k (its commune), and every request
-- carries a fresh Idempotency-Key.
local path, ctype, token
local bodies, sessions = {}, {}
local i, counter = 0, 0

local function lines(name)
  local out = {}
  for line in io.lines(name) do if #line > 0 then out[#out + 1] = line end end
  return out
end

local id = 0
function setup(thread)
  id = id + 1
  thread:set("tid", id)
end

function init(args)
  path, ctype, token = args[1], args[3], args[4] or "-"
  bodies = lines(args[2])
  if args[5] and args[5] ~= "-" then
    for _, line in ipairs(lines(args[5])) do
      local s, c = line:match("^(%S+)%s+(%S+)$")
      sessions[#sessions + 1] = {s, c}
    end
  end
  math.randomseed(os.time() + (tid or 0) * 7919)
  i = math.random(1, 100000)
end

function request()
  i = i + 1
  counter = counter + 1
  local k = (i % #bodies) + 1
  local headers = {["Content-Type"] = ctype}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  if #sessions > 0 then
    local s = sessions[((k - 1) % #sessions) + 1]
    headers["Cookie"] = "sessionid=" .. s[1] .. "; csrftoken=" .. s[2]
    headers["X-CSRFToken"] = s[2]
    headers["Idempotency-Key"] = string.format("wrk-%d-%d-%d-%d", os.time(), tid or 0, counter, math.random(1, 1e9))
  end
  return wrk.format("POST", path, headers, bodies[k])
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end

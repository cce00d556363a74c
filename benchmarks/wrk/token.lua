-- POST /oidc/token with private_key_jwt: each request uses a client assertion not used before
-- (the provider refuses a replayed jti), taken from a file written just before the run.
-- wrk -s token.lua URL -- PATH ASSERTION_FILE THREADS GRANT [SCOPE|-] [REFRESH_FILE]
-- GRANT client_credentials: "grant_type=client_credentials&scope=SCOPE".
-- GRANT refresh_token: a per-thread pool of refresh tokens (REFRESH_FILE, one per line, split
-- between threads); every answer's new refresh token goes back into the pool (rotation), so each
-- token is presented exactly once. Left-over tokens are written to $POPID_WRK_POOL_OUT.
local path, grant, scope
local assertions = {}
pool = {}  -- global: done() reads what is left through thread:get
local a, nthreads = 0, 1

local function lines(name)
  local out = {}
  for line in io.lines(name) do if #line > 0 then out[#out + 1] = line end end
  return out
end

local id, threads = 0, {}
function setup(thread)
  id = id + 1
  thread:set("tid", id)
  threads[#threads + 1] = thread
end

function init(args)
  path, grant, scope = args[1], args[4], args[5] or "-"
  nthreads = tonumber(args[3])
  local all = lines(args[2])
  for k = tid, #all, nthreads do assertions[#assertions + 1] = all[k] end
  if grant == "refresh_token" then
    local tokens = lines(args[6])
    for k = tid, #tokens, nthreads do pool[#pool + 1] = tokens[k] end
  end
end

local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  a = a + 1
  local assertion = assertions[((a - 1) % #assertions) + 1]
  local body = "client_assertion_type=" .. enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    .. "&client_assertion=" .. assertion
  if grant == "refresh_token" then
    local rt = table.remove(pool, 1) or "exhausted"
    body = body .. "&grant_type=refresh_token&refresh_token=" .. enc(rt)
  else
    body = body .. "&grant_type=client_credentials"
    if scope ~= "-" then body = body .. "&scope=" .. enc(scope) end
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

if true then
  response = function(status, headers, body)
    if grant == "refresh_token" and status == 200 then
      local rt = body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if rt then pool[#pool + 1] = rt end
    end
  end
end

function done(summary, latency, requests)
  local out = os.getenv("POPID_WRK_POOL_OUT")
  if out then
    local fh = io.open(out, "w")
    for _, thread in ipairs(threads) do
      local left = thread:get("pool")
      if left then for _, rt in ipairs(left) do fh:write(rt, "\n") end end
    end
    fh:close()
  end
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end

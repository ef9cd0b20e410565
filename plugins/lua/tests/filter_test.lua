-- Unit tests of filter.lua in a stand-alone LuaJIT (the VM Envoy's Lua filter embeds), under a small
-- shim of Envoy's request handle. The runner turns the JSON configuration into the CONFIG table
-- (bench-runner/src/plugins/lua.rs, with its own Rust tests); these check how the script reads that
-- table (its defaults, rules in order, host patterns, ports) and the work it does per request.
-- Run: luajit plugins/lua/tests/filter_test.lua (bench-runner's tests do; exit 1 on a failure).

local dir = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
local f = assert(io.open(dir .. "/../filter.lua", "rb"))
local template = f:read("*a")
f:close()

-- The script with `config` (Lua table source) in place of the @CONFIG@ line, loaded fresh.
local function load_filter(config)
  local src, n = template:gsub("local CONFIG = {} %-%- @CONFIG@", function()
    return "local CONFIG = " .. config
  end)
  assert(n == 1, "the template holds the @CONFIG@ line once")
  local env = setmetatable({}, { __index = _G })
  local chunk = assert(loadstring(src, "=filter.lua"))
  setfenv(chunk, env)
  chunk()
  return env
end

-- One request: route name, Host header. Returns the reply ({status, body}) or nil, the x-bench
-- operations in order, the log lines, and whether the headers ended as they started.
local function request(filter, route, authority)
  local store = { [":authority"] = authority }
  local ops, logs, h, hdrs, info = {}, 0, {}, {}, {}
  local function note(op, k) if k:sub(1, 8) == "x-bench-" then ops[#ops + 1] = op .. " " .. k end end
  function hdrs:get(k) note("get", k) return store[k] end
  function hdrs:add(k, v) note("add", k) assert(store[k] == nil, "added twice: " .. k) store[k] = v end
  function hdrs:remove(k) note("remove", k) store[k] = nil end
  function info:routeName() return route end
  function h:headers() return hdrs end
  function h:streamInfo() return info end
  function h:respond(headers, body) h.reply = { headers[":status"], body } end
  function h:logInfo() logs = logs + 1 end
  filter.envoy_on_request(h)
  local intact = next(store, next(store)) == nil and store[":authority"] == authority
  return h.reply, ops, logs, intact
end

local failed, ran = 0, 0
local function check(name, cond, detail)
  ran = ran + 1
  if not cond then
    failed = failed + 1
    print("FAIL " .. name .. (detail and (": " .. tostring(detail)) or ""))
  end
end

-- Defaults: mode mock, a global reply answers every route with its content.
do
  local fl = load_filter('{global = {content = "hello higress"}}')
  local reply, ops, logs = request(fl, "default/foo", "localhost")
  check("global mock reply", reply and reply[1] == "200" and reply[2] == "hello higress")
  check("mock does no header work and logs nothing", #ops == 0 and logs == 0)
end

-- headers mode with the default header_count (20): add all, read all, remove all, in that order.
do
  local fl = load_filter('{global = {content = ""}, mode = "headers"}')
  local reply, ops, logs, intact = request(fl, "default/other", "h")
  check("headers continues", reply == nil)
  check("headers leaves the request as it came", intact)
  check("20 headers, three passes", #ops == 60, #ops)
  check("adds first, in order", ops[1] == "add x-bench-0" and ops[20] == "add x-bench-19", ops[1])
  check("then reads", ops[21] == "get x-bench-0" and ops[40] == "get x-bench-19", ops[21])
  check("then removes", ops[41] == "remove x-bench-0" and ops[60] == "remove x-bench-19", ops[41])
  check("headers logs nothing", logs == 0)
  local none = load_filter('{global = {content = ""}, mode = "headers", header_count = 0}')
  local _, ops0 = request(none, "r", "h")
  check("header_count 0 does no header work", #ops0 == 0)
end

-- Rules: first match wins; route rules use the route name; domains lose their port; no global and no
-- match continues without work.
do
  local fl = load_filter([[{
    global = {content = "global"},
    rules = {
      {kind = "route", match = {"default/foo"}, reply = {content = "foo"}},
      {kind = "domain", match = {"*.example.com", "api.*", "exact.test"}, reply = {content = "domain"}},
    },
  }]])
  local function body(route, host) local r = request(fl, route, host) return r and r[2] end
  check("route rule", body("default/foo", "a.example.com") == "foo")
  check("suffix pattern, port stripped", body("default/bar", "www.example.com:8080") == "domain")
  check("suffix needs the dot", body("default/bar", "example.com") == "global")
  check("prefix pattern", body("default/bar", "api.internal") == "domain")
  check("exact pattern", body("default/bar", "exact.test") == "domain")
  check("case-sensitive", body("default/bar", "EXACT.test") == "global")
  check("IPv6 keeps its brackets", body("default/bar", "[::1]:80") == "global")
  local only = load_filter('{mode = "headers", header_count = 5, rules = {{kind = "route", match = {"default/foo"}, reply = {content = ""}}}}')
  local r1, ops1 = request(only, "default/foo", "h")
  local r2, ops2 = request(only, "default/bar", "h")
  check("a matched headers rule works", r1 == nil and #ops1 == 15, #ops1)
  check("an unmatched request gets no work", r2 == nil and #ops2 == 0, #ops2)
end

-- crash_every counts every request the filter sees and raises on the Nth; spin still answers.
do
  local fl = load_filter('{global = {content = "x"}, crash_every = 3}')
  check("1st answers", pcall(request, fl, "r", "h"))
  check("2nd answers", pcall(request, fl, "r", "h"))
  local ok, err = pcall(request, fl, "r", "h")
  check("3rd raises", not ok and tostring(err):find("crash_every") ~= nil, err)
  local spun = load_filter('{global = {content = "spun"}, spin = 1000}')
  local reply, _, logs = request(spun, "r", "h")
  check("spin answers and logs nothing", reply[2] == "spun" and logs == 0)
end

print(string.format("%d of %d checks passed", ran - failed, ran))
os.exit(failed == 0 and 0 or 1)

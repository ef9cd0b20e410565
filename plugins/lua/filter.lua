-- The mock-response plugin (SPEC section 1) for Envoy's built-in Lua filter (LuaJIT).
--
-- Envoy's Lua has no JSON parser, so bench-runner validates the plugin's JSON configuration itself and
-- writes it into this file as a Lua table literal, replacing the line marked @CONFIG@ (every string
-- emitted byte by byte with escapes, never pasted). The table holds:
--   global       {content = "..."} or absent (no global reply)
--   rules        list of {kind = "route"|"domain", match = {"..."}, reply = {content = "..."}}
--   mode         "mock" or "headers"
--   header_count, crash_every, spin   numbers
local CONFIG = {} -- @CONFIG@

local GLOBAL = CONFIG.global
local RULES = CONFIG.rules or {}
local MODE = CONFIG.mode or "mock"
local HEADER_COUNT = CONFIG.header_count or 20
local CRASH_EVERY = CONFIG.crash_every or 0
local SPIN = CONFIG.spin or 0
local seen = 0

-- The headers workload's names and values (x-bench-<i>, v<i>), built once when the script loads, as a
-- real filter holds its constant header names: nothing is concatenated per request.
local NAMES, VALUES = {}, {}
local OK = {[":status"] = "200"} -- the local reply's headers, one table for every reply
if MODE == "headers" then
  for i = 0, HEADER_COUNT - 1 do
    NAMES[i + 1] = "x-bench-" .. i
    VALUES[i + 1] = "v" .. i
  end
end

local function strip_port(h)
  local colon = nil
  for i = #h, 1, -1 do
    if h:byte(i) == 58 then colon = i break end
  end
  if colon == nil then return h end
  local bracket = nil
  for i = #h, 1, -1 do
    if h:byte(i) == 93 then bracket = i break end
  end
  if bracket == nil or bracket < colon then return h:sub(1, colon - 1) end
  return h
end

local function host_matches(host, pat)
  if pat:sub(1, 1) == "*" then
    local rest = pat:sub(2)
    return #rest <= #host and host:sub(#host - #rest + 1) == rest
  elseif pat:sub(-1) == "*" then
    local rest = pat:sub(1, -2)
    return host:sub(1, #rest) == rest
  end
  return host == pat
end

local function select_reply(h)
  local route = nil
  local host = nil
  for _, rule in ipairs(RULES) do
    if rule.kind == "route" then
      if route == nil then route = h:streamInfo():routeName() or "" end
      for _, name in ipairs(rule.match) do
        if name == route then return rule.reply end
      end
    else
      if host == nil then host = strip_port(h:headers():get(":authority") or "") end
      for _, pat in ipairs(rule.match) do
        if host_matches(host, pat) then return rule.reply end
      end
    end
  end
  return GLOBAL
end

local function spin(k)
  -- LuaJIT has no 64-bit integers: the same loop shape on 32-bit bit operations.
  local x = 0x811c9dc5
  for i = 0, k - 1 do
    x = bit.bxor(x, i)
    x = bit.tobit(x * 0x01000193)
    x = bit.bxor(x, bit.rshift(x, 16))
  end
  return x
end

-- The body mode's checksum: FNV-1a, 32 bits. h * 0x01000193 is split into h * 0x193 + (h << 24) so that
-- every intermediate value stays exact in a double; bit.tobit wraps the sum to 32 bits.
local function fnv1a32(s)
  local x = bit.tobit(0x811c9dc5)
  for i = 1, #s do
    x = bit.bxor(x, s:byte(i))
    x = bit.tobit(x * 0x193 + bit.lshift(x, 24))
  end
  return x
end

local function body_reply(content, h)
  local body = h:body() -- buffers the whole request body; nil when there is none
  local s = ""
  if body ~= nil and body:length() > 0 then s = body:getBytes(0, body:length()) end
  return content .. "\nfnv1a32=" .. bit.tohex(fnv1a32(s)) .. " len=" .. #s
end

function envoy_on_request(h)
  seen = seen + 1
  if CRASH_EVERY > 0 and seen % CRASH_EVERY == 0 then
    error("mock-response: crash_every reached")
  end
  if SPIN > 0 and spin(SPIN) == 0 then
    h:logInfo("mock-response: spin result was zero")
  end
  local reply = select_reply(h)
  if reply == nil then return end
  if MODE == "headers" then
    local headers = h:headers()
    for i = 1, #NAMES do headers:add(NAMES[i], VALUES[i]) end
    for i = 1, #NAMES do
      if headers:get(NAMES[i]) ~= VALUES[i] then error("mock-response: header check failed") end
    end
    for i = 1, #NAMES do headers:remove(NAMES[i]) end
    return
  end
  if MODE == "body" then
    h:respond(OK, body_reply(reply.content, h))
    return
  end
  h:respond(OK, reply.content)
end

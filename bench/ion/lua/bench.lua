-- Lua 5.4 side of the IonVM benchmarks: lua5.4 bench.lua NAME N
-- Each program prints "NAME=RESULT"; the runner checks RESULT, so a broken
-- run cannot post a time. Actor programs use sched.lua (coroutines).

local sched = require("sched")
local name, n = arg[1], math.tointeger(tonumber(arg[2]))

local function fib(k)
  if k < 2 then return k end
  return fib(k - 1) + fib(k - 2)
end

local programs = {}

function programs.fib()
  return fib(n)
end

-- s accumulates x * 0.5 for x = 0, 1, ..., n-1 (all in floats); the sum is
-- exact below 2^52 so the result is an integer every language agrees on.
function programs.fma()
  local s, x = 0.0, 0.0
  for _ = 1, n do
    s = s + x * 0.5
    x = x + 1.0
  end
  return string.format("%.0f", s)
end

-- obj -> p1 -> p2 -> base, the property lives on base (three hops up).
function programs.proto()
  local base = { x = 3.0 }
  local p2 = setmetatable({}, { __index = base })
  local p1 = setmetatable({}, { __index = p2 })
  local obj = setmetatable({}, { __index = p1 })
  local sum = 0.0
  for _ = 1, n do
    sum = sum + obj.x
  end
  return string.format("%.0f", sum)
end

function programs.strbuild()
  local parts = {}
  for i = 1, n do parts[i] = "ab" end
  return #table.concat(parts)
end

local result

function programs.spawn()
  sched.run(function()
    local parent = sched.self()
    for _ = 1, n do
      sched.spawn(function() sched.send(parent, 1) end)
    end
    local got = 0
    for _ = 1, n do got = got + sched.receive() end
    result = got
  end)
  return result
end

-- 1000 processes in a ring; the token is a hop counter, forwarded until it
-- reaches n, then every process is told to stop.
function programs.ring()
  local size = 1000
  sched.run(function()
    local parent = sched.self()
    local function node(nextp)
      while true do
        local m = sched.receive()
        if m == "stop" then sched.send(nextp[1], "stop") return end
        if m >= n then sched.send(parent, m) sched.send(nextp[1], "stop") return end
        sched.send(nextp[1], m + 1)
      end
    end
    local procs, links = {}, {}
    for i = 1, size do
      links[i] = {}
      procs[i] = sched.spawn(node, links[i])
    end
    -- process i forwards to process i+1; the last forwards to the first
    for i = 1, size do links[i][1] = procs[i % size + 1] end
    sched.send(procs[1], 0)
    result = sched.receive()
  end)
  return result
end

-- n messages in total: ping sends, pong answers, n/2 round trips.
function programs.pingpong()
  sched.run(function()
    local parent = sched.self()
    local pong = sched.spawn(function()
      while true do
        local m = sched.receive()
        if m[2] == "stop" then return end
        sched.send(m[1], m[2])
      end
    end)
    local me = sched.self()
    local msgs = 0
    for i = 1, n // 2 do
      sched.send(pong, { me, i })
      sched.receive()
      msgs = msgs + 2
    end
    sched.send(pong, { me, "stop" })
    result = msgs
  end)
  return result
end

function programs.timeout()
  sched.run(function()
    local parent = sched.self()
    for _ = 1, n do
      sched.spawn(function()
        if sched.receive(10) == nil then sched.send(parent, 1) end
      end)
    end
    local got = 0
    for _ = 1, n do got = got + sched.receive() end
    result = got
  end)
  return result
end

-- n processes blocked in receive at the same time; the runner compares peak
-- RSS against n = 0 to get the cost of one idle process.
function programs.idle()
  sched.run(function()
    local parent = sched.self()
    local procs = {}
    for i = 1, n do
      procs[i] = sched.spawn(function()
        sched.receive()
        sched.send(parent, 1)
      end)
    end
    sched.receive(50)       -- let every process reach its receive
    for i = 1, n do sched.send(procs[i], "stop") end
    local got = 0
    for _ = 1, n do got = got + sched.receive() end
    result = got
  end)
  return result
end

local prog = programs[name]
if not prog then error("unknown benchmark " .. tostring(name)) end
print(name .. "=" .. tostring(prog()))

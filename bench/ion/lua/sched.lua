-- A small actor scheduler for the Lua side of the IonVM benchmarks.
--
-- Processes are coroutines; each has a FIFO mailbox. A process that calls
-- receive() on an empty mailbox yields and stays off the run queue until a
-- message arrives or its timeout expires, so blocked processes cost nothing.
-- Lua cannot preempt a coroutine, so scheduling is reduction-counted at the
-- scheduler's own calls: every spawn() and send() costs one reduction, and a
-- process that has spent its budget is put back at the end of the run queue
-- (as Erlang does at its reduction points). A process also gives up the CPU
-- when it blocks in receive() or returns.
--
-- Lua has no monotonic wall clock in its standard library; os.clock() is CPU
-- time, which advances like wall time here because the scheduler spins while
-- it waits for the next timer (there is nothing else to run).

local sched = {}

local runq, rq_head, rq_tail = {}, 1, 0
local current = nil
local BUDGET = 2000
local budget = BUDGET
local timers, ntimers = {}, 0     -- binary min-heap on .deadline

local function enqueue(p)
  rq_tail = rq_tail + 1
  runq[rq_tail] = p
end

local function timer_push(t)
  ntimers = ntimers + 1
  local i = ntimers
  timers[i] = t
  while i > 1 do
    local parent = i // 2
    if timers[parent].deadline <= t.deadline then break end
    timers[i], timers[parent] = timers[parent], t
    i = parent
  end
end

local function timer_pop()
  local top = timers[1]
  local last = timers[ntimers]
  timers[ntimers] = nil
  ntimers = ntimers - 1
  if ntimers > 0 then
    local i = 1
    timers[1] = last
    while true do
      local l, r, m = 2 * i, 2 * i + 1, i
      if l <= ntimers and timers[l].deadline < timers[m].deadline then m = l end
      if r <= ntimers and timers[r].deadline < timers[m].deadline then m = r end
      if m == i then break end
      timers[i], timers[m] = timers[m], timers[i]
      i = m
    end
  end
  return top
end

-- One reduction; yield to the others when the budget is spent.
local function reduction()
  budget = budget - 1
  if budget <= 0 and current then
    enqueue(current)
    coroutine.yield()
  end
end

-- Start f(...) as a new process; returns its pid (the process record).
function sched.spawn(f, ...)
  local args = table.pack(...)
  local p = { mbox = {}, mb_head = 1, mb_tail = 0, waiting = false, wait_gen = 0 }
  p.co = coroutine.create(function() return f(table.unpack(args, 1, args.n)) end)
  enqueue(p)
  reduction()
  return p
end

function sched.self()
  return current
end

function sched.send(p, msg)
  p.mb_tail = p.mb_tail + 1
  p.mbox[p.mb_tail] = msg
  if p.waiting then
    p.waiting = false
    enqueue(p)
  end
  reduction()
end

-- Take the oldest message; block until one arrives. With timeout_ms, give up
-- after that many milliseconds and return nil.
function sched.receive(timeout_ms)
  local p = current
  if p.mb_head > p.mb_tail then
    p.waiting = true
    p.wait_gen = p.wait_gen + 1
    if timeout_ms then
      timer_push({ deadline = os.clock() + timeout_ms / 1000, proc = p, gen = p.wait_gen })
    end
    coroutine.yield()
    if p.mb_head > p.mb_tail then return nil end
  end
  local msg = p.mbox[p.mb_head]
  p.mbox[p.mb_head] = nil
  p.mb_head = p.mb_head + 1
  return msg
end

local function fire_timers(now)
  while ntimers > 0 and timers[1].deadline <= now do
    local t = timer_pop()
    local p = t.proc
    -- A timer is stale if the process was woken by a message meanwhile.
    if p.waiting and p.wait_gen == t.gen then
      p.waiting = false
      enqueue(p)
    end
  end
end

-- Run main(...) as the first process and schedule until no process can run.
function sched.run(main, ...)
  sched.spawn(main, ...)
  while true do
    if rq_head > rq_tail then
      if ntimers == 0 then break end
      fire_timers(os.clock())
    else
      local p = runq[rq_head]
      runq[rq_head] = nil
      rq_head = rq_head + 1
      current = p
      budget = BUDGET
      local ok, err = coroutine.resume(p.co)
      if not ok then error(err) end
      current = nil
      if ntimers > 0 then fire_timers(os.clock()) end
    end
  end
end

return sched

"""The IonVM side of the benchmarks, written with the ionvm Python package.

pack(name, n) returns the bytes of an IonPack whose entry point runs the
benchmark with size n and returns the tuple {name, result}; the runner
checks result against the same expected value as for Lua and Erlang
(lua/bench.lua, erl/bench_ion.erl hold the same programs).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "python"))

from ionvm import Function, Instruction as I, IonPackBuilder, Pattern, Value  # noqa: E402


def _result(name, reg_value, base):
    """Code returning {name, R[reg_value]} using registers base, base+1, base+2."""
    return [I.load_const(base, Value.atom(name)),
            I.move(base + 1, reg_value),
            I.new_tuple(base + 2, base, 2),
            I.return_reg(base + 2)]


def fib(n):
    # r0 k, r1 tmp, r2 fib, r3 arg, r4 acc
    fib_fn = Function("fib", 1, 4, [
        I.load_int(1, 2),
        I.jump_lt(0, 1, "base"),
        I.load_const(2, Value.function("fib")),
        I.add_imm(3, 0, -1),
        I.call(4, 2, 3, 1),
        I.add_imm(3, 0, -2),
        I.call(1, 2, 3, 1),
        I.add(4, 4, 1),
        I.return_reg(4),
        I.label("base"),
        I.return_reg(0),
    ])
    main = Function("main", 0, 6, [
        I.load_const(0, Value.function("fib")),
        I.load_const(1, n),
        I.call(2, 0, 1, 1),
    ] + _result("fib", 2, 3))
    return [main, fib_fn]


def fma(n):
    # x itself counts the iterations (0.0, 1.0, ... n-1); loop_lt is IonVM's
    # counted-loop step (as FORLOOP is Lua's): 3 instructions per iteration.
    # r0 s, r1 x, r2 n, r3 0.5, r5 tmp
    main = Function("main", 0, 9, [
        I.load_const(0, 0.0),
        I.load_const(1, 0.0),
        I.load_const(2, n),
        I.load_const(3, 0.5),
        I.jump_le(2, 1, "done"),
        I.label("loop"),
        I.mul(5, 1, 3),
        I.add(0, 0, 5),
        I.loop_lt(1, 2, "loop"),
        I.label("done"),
    ] + _result("fma", 0, 6))
    return [main]


def proto(n):
    base = Value.object({"x": 3.0})
    p2 = Value.object({}, prototype=base)
    p1 = Value.object({}, prototype=p2)
    obj = Value.object({}, prototype=p1)
    # r0 obj, r1 sum, r2 i, r3 n, r4 tmp
    main = Function("main", 0, 8, [
        I.load_const(0, obj),
        I.load_const(1, 0.0),
        I.load_int(2, 0),
        I.load_const(3, n),
        I.jump_le(3, 2, "done"),
        I.label("loop"),
        I.get_prop(4, 0, "x"),
        I.add(1, 1, 4),
        I.loop_lt(2, 3, "loop"),
        I.label("done"),
    ] + _result("proto", 1, 5))
    return [main]


def strbuild(n):
    # r0 parts, r1 i, r2 n, r3 "ab", r4 join, r5 parts (arg), r6 "" (arg), r7 s, r8 len
    main = Function("main", 0, 12, [
        I.load_const(0, Value.array([])),
        I.load_int(1, 0),
        I.load_const(2, n),
        I.load_const(3, "ab"),
        I.jump_le(2, 1, "done"),
        I.label("loop"),
        I.set_index(0, 1, 3),                 # appends: index == length
        I.loop_lt(1, 2, "loop"),
        I.label("done"),
        I.load_const(4, Value.native("string.join")),
        I.move(5, 0),
        I.load_const(6, ""),
        I.call(7, 4, 5, 2),
        I.len(8, 7),
    ] + _result("strbuild", 8, 9))
    return [main]


def _collect(count_reg, sum_reg, tmp, zero, label):
    """Receive count_reg messages (numbers) and add them into sum_reg."""
    return [
        I.load_int(sum_reg, 0),
        I.jump_le(count_reg, zero, label + "_done"),
        I.label(label),
        I.receive(tmp),
        I.add(sum_reg, sum_reg, tmp),
        I.add_imm(count_reg, count_reg, -1),
        I.jump_lt(zero, count_reg, label),
        I.label(label + "_done"),
    ]


def spawn(n):
    child = Function("child", 1, 1, [
        I.load_int(1, 1),
        I.send(0, 1),
        I.return_nil(),
    ])
    # r0 self, r1 args {self}, r2 child, r3 i, r4 0, r5 pid, r6 sum, r7 tmp
    main = Function("main", 0, 11, [
        I.self(0),
        I.new_tuple(1, 0, 1),
        I.load_const(2, Value.function("child")),
        I.load_const(3, n),
        I.load_int(4, 0),
        I.jump_le(3, 4, "spawned"),
        I.label("spawn"),
        I.spawn(5, 2, 1),
        I.add_imm(3, 3, -1),
        I.jump_lt(4, 3, "spawn"),
        I.label("spawned"),
        I.load_const(3, n),
    ] + _collect(3, 6, 7, 4, "collect") + _result("spawn", 6, 8))
    return [main, child]


def ring(n, size=1000):
    # node(next, parent, hops): r3 m, r4 stop, r5 tmp
    node = Function("node", 3, 3, [
        I.load_const(4, Value.atom("stop")),
        I.label("loop"),
        I.receive(3),
        I.jump_eq(3, 4, "stop"),
        I.jump_le(2, 3, "done"),
        I.add_imm(5, 3, 1),
        I.send(0, 5),
        I.jump("loop"),
        I.label("done"),
        I.send(1, 3),
        I.label("stop"),
        I.send(0, 4),
        I.return_nil(),
    ])
    # first(parent, hops): waits for the pid that closes the ring
    first = Function("first", 2, 4, [
        I.receive(2),
        I.move(3, 0),
        I.move(4, 1),
        I.load_const(5, Value.function("node")),
        I.tail_call(5, 2, 3),
    ])
    # r0 self, r1 hops, r2 tmp, r3 first, r4 next, r5 parent, r6 hops, r7 args,
    # r8 node, r9 i, r10 0, r11 result
    main = Function("main", 0, 15, [
        I.self(0),
        I.load_const(1, n),
        I.load_const(2, Value.function("first")),
        I.new_tuple(7, 0, 2),
        I.spawn(3, 2, 7),
        I.move(4, 3),
        I.move(5, 0),
        I.move(6, 1),
        I.load_const(8, Value.function("node")),
        I.load_const(9, size - 1),
        I.load_int(10, 0),
        I.label("spawn"),
        I.new_tuple(7, 4, 3),
        I.spawn(4, 8, 7),
        I.add_imm(9, 9, -1),
        I.jump_lt(10, 9, "spawn"),
        I.send(3, 4),
        I.load_int(2, 0),
        I.send(3, 2),
        I.receive(11),
    ] + _result("ring", 11, 12))
    return [main, first, node]


def pingpong(n):
    # pong(): r0 msg, r1 from, r2 k
    pong = Function("pong", 0, 3, [
        I.label("loop"),
        I.receive(0),
        I.match(0, [((Pattern.bind(1), Pattern.bind(2)), "reply"),
                    (Value.atom("stop"), "stop")]),
        I.error(0),
        I.label("reply"),
        I.send(1, 2),
        I.jump("loop"),
        I.label("stop"),
        I.return_nil(),
    ])
    # r0 pong, r1 self, r2 k, r3 msg {self, k}, r4 0, r5 msgs, r6 reply, r7 tmp
    main = Function("main", 0, 12, [
        I.load_const(7, Value.function("pong")),
        I.load_nil(6),
        I.spawn(0, 7, 6),
        I.self(1),
        I.load_const(2, n // 2),
        I.load_int(4, 0),
        I.load_int(5, 0),
        I.jump_le(2, 4, "done"),
        I.label("loop"),
        I.new_tuple(3, 1, 2),
        I.send(0, 3),
        I.receive(6),
        I.add_imm(5, 5, 2),
        I.add_imm(2, 2, -1),
        I.jump_lt(4, 2, "loop"),
        I.label("done"),
        I.load_const(7, Value.atom("stop")),
        I.send(0, 7),
    ] + _result("pingpong", 5, 8))
    return [main, pong]


def timeout(n):
    # waiter(parent): r1 msg, r2 10 ms
    waiter = Function("waiter", 1, 2, [
        I.load_int(2, 10),
        I.receive_timeout(1, 2, "timed_out"),
        I.return_nil(),
        I.label("timed_out"),
        I.load_int(1, 1),
        I.send(0, 1),
        I.return_nil(),
    ])
    main = Function("main", 0, 11, [
        I.self(0),
        I.new_tuple(1, 0, 1),
        I.load_const(2, Value.function("waiter")),
        I.load_const(3, n),
        I.load_int(4, 0),
        I.jump_le(3, 4, "spawned"),
        I.label("spawn"),
        I.spawn(5, 2, 1),
        I.add_imm(3, 3, -1),
        I.jump_lt(4, 3, "spawn"),
        I.label("spawned"),
        I.load_const(3, n),
    ] + _collect(3, 6, 7, 4, "collect") + _result("timeout", 6, 8))
    return [main, waiter]


def idle(n):
    sleeper = Function("sleeper", 1, 2, [
        I.receive(1),
        I.load_int(1, 1),
        I.send(0, 1),
        I.return_nil(),
    ])
    # r0 self, r1 args, r2 sleeper, r3 i, r4 0, r5 pid, r6 sum, r7 tmp, r8 pids,
    # r9 50, r10 stop, r11 n
    main = Function("main", 0, 15, [
        I.self(0),
        I.new_tuple(1, 0, 1),
        I.load_const(2, Value.function("sleeper")),
        I.load_const(8, Value.array([])),
        I.load_int(3, 0),
        I.load_const(11, n),
        I.load_int(4, 0),
        I.jump_le(11, 3, "spawned"),
        I.label("spawn"),
        I.spawn(5, 2, 1),
        I.set_index(8, 3, 5),
        I.add_imm(3, 3, 1),
        I.jump_lt(3, 11, "spawn"),
        I.label("spawned"),
        I.load_int(9, 50),                    # let every process reach receive
        I.receive_timeout(7, 9, "stop"),
        I.label("stop"),
        I.load_const(10, Value.atom("stop")),
        I.load_int(3, 0),
        I.jump_le(11, 3, "stopped"),
        I.label("send"),
        I.get_index(5, 8, 3),
        I.send(5, 10),
        I.add_imm(3, 3, 1),
        I.jump_lt(3, 11, "send"),
        I.label("stopped"),
        I.move(3, 11),
    ] + _collect(3, 6, 7, 4, "collect") + _result("idle", 6, 12))
    return [main, sleeper]


PROGRAMS = {
    "fib": fib, "fma": fma, "proto": proto, "strbuild": strbuild, "spawn": spawn,
    "ring": ring, "pingpong": pingpong, "timeout": timeout, "idle": idle,
}


def pack(name, n):
    fns = PROGRAMS[name](n)
    b = IonPackBuilder("bench-" + name, "1.0.0")
    b.add_class("Main", fns)
    b.main_class("Main")
    b.entry_point("main")
    return b.to_bytes()

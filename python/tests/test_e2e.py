"""End to end: build packs with the package, run them with ionvm, check the
printed result (docs/ionvm-bytecode.md, "Printing values")."""

import re

from ionvm import Function, Instruction as I, IonPackBuilder, Pattern, Value


def fn(name, arity, extra, code, **kw):
    return Function(name=name, arity=arity, extra_regs=extra, instructions=code, **kw)


def native(dst, name, base, nargs, scratch):
    """Call native `name` with R[base..base+nargs-1] into R[dst]."""
    return [I.load_const(scratch, Value.native(name)), I.call(dst, scratch, base, nargs)]


def ok(run):
    assert run.returncode == 0, run
    return run.stdout


# -- basics ---------------------------------------------------------------

def test_hello_world_as_users_write_it(ionvm, tmp_path):
    import subprocess
    main = Function(name="main", arity=0, extra_regs=1, instructions=[
        I.load_const(0, Value.number(42)),
        I.return_reg(0)])
    builder = IonPackBuilder("hello-world", "1.0.0")
    builder.add_class("Main", main)
    builder.main_class("Main")
    builder.entry_point("main")
    path = tmp_path / "hello.ionpack"
    with open(path, "wb") as f:
        builder.build(f)
    proc = subprocess.run([str(ionvm), str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "42\n"


def test_arithmetic_and_comparison(run_pack):
    main = fn("main", 0, 16, [
        I.load_int(0, 2), I.load_int(1, 3), I.load_int(2, 4), I.load_int(3, 6),
        I.add(4, 0, 1),            # 5
        I.mul(4, 4, 2),            # 20
        I.div(5, 3, 0),            # 3
        I.sub(4, 4, 5),            # 17
        I.add_imm(4, 4, 1),        # 18
        I.mod(5, 1, 0),            # 1
        I.pow(6, 0, 1),            # 8
        I.neg(7, 4),               # -18
        I.lt(8, 0, 1),             # true
        I.ge(9, 0, 1),             # false
        I.load_const(10, 0.25),
        I.div(11, 1, 2),           # 0.75
        I.eq(12, 11, 11),          # true
        I.new_tuple(13, 4, 9),
        I.return_reg(13),
    ])
    assert ok(run_pack(main)) == "{18, 1, 8, -18, true, false, 0.25, 0.75, true}\n"


def test_jumps_loop_sum(run_pack):
    # sum of 1..100 with a counted loop and labels
    main = fn("main", 0, 4, [
        I.load_int(0, 0), I.load_int(1, 1), I.load_int(2, 100),
        I.label("loop"),
        I.add(0, 0, 1),
        I.add_imm(1, 1, 1),
        I.jump_le(1, 2, "loop"),
        I.return_reg(0),
    ])
    assert ok(run_pack(main)) == "5050\n"


def test_logical_ops_and_truthiness(run_pack):
    main = fn("main", 0, 10, [
        I.load_int(0, 0), I.load_nil(1), I.load_const(2, ""),
        I.logical_not(3, 0),            # 0 is truthy -> false
        I.logical_not(4, 1),            # nil -> true
        I.logical_and(5, 2, 0),         # "" truthy -> 0
        I.logical_or(6, 1, 2),          # nil falsy -> ""
        I.new_tuple(7, 3, 4),
        I.return_reg(7),
    ])
    assert ok(run_pack(main)) == '{false, true, 0, ""}\n'


def test_strings_concat_repeat_len(run_pack):
    main = fn("main", 0, 10, [
        I.load_const(0, "ab"), I.load_int(1, 3),
        I.mul(2, 0, 1),                 # "ababab"
        I.mul(3, 1, 0),                 # number * string too
        I.load_const(4, "-"),
        I.add(5, 2, 4),                 # "ababab-"
        I.len(6, 5),
        I.move(7, 3),
        I.new_tuple(8, 5, 3),
        I.return_reg(8),
    ])
    assert ok(run_pack(main)) == '{"ababab-", 7, "ababab"}\n'


def test_top_level_string_prints_raw(run_pack):
    main = fn("main", 0, 1, [I.load_const(0, 'say "hi"'), I.return_reg(0)])
    assert ok(run_pack(main)) == 'say "hi"\n'


def test_negative_repeat_is_an_error(run_pack):
    main = fn("main", 0, 3, [I.load_const(0, "ab"), I.load_int(1, -1), I.mul(2, 0, 1),
                             I.return_reg(2)])
    run = run_pack(main)
    assert run.returncode == 1, run


def test_complex_numbers(run_pack):
    main = fn("main", 0, 10, [
        I.load_const(0, Value.complex(1, 2)),
        I.load_const(1, Value.complex(3, -1)),
        I.mul(2, 0, 1),                 # 5+5i
        I.load_int(5, 1),
        I.add(3, 0, 5),                 # 2+2i
        I.div(4, 2, 0),                 # 3-1i
        I.sub(5, 0, 0),                 # 0+0i
        I.new_tuple(6, 2, 4),
        I.return_reg(6),
    ])
    assert ok(run_pack(main)) == "{5+5i, 2+2i, 3-1i, 0+0i}\n"


def test_constants_of_every_kind_print(run_pack):
    value = Value.tuple([Value.nil(), True, 1.5, "s", Value.atom("ok"), Value.complex(0, -1.5),
                         Value.array([1, 2]), Value.object({"x": 1, "y": 2})])
    main = fn("main", 0, 1, [I.load_const(0, value), I.return_reg(0)])
    assert ok(run_pack(main)) == '{nil, true, 1.5, "s", ok, 0-1.5i, [1, 2], #{x: 1, y: 2}}\n'


def test_arrays_index_and_len(run_pack):
    main = fn("main", 0, 10, [
        I.load_const(0, Value.array([10, 20])),
        I.load_int(1, 2), I.load_int(2, 30),
        I.set_index(0, 1, 2),           # append at index == length
        I.load_int(1, 0), I.load_int(2, 5),
        I.set_index(0, 1, 2),
        I.len(3, 0),
        I.load_int(1, 7),
        I.get_index(4, 0, 1),           # out of range -> nil
        I.new_tuple(5, 0, 5),
        I.return_reg(5),
    ])
    assert ok(run_pack(main)) == "{[5, 20, 30], 7, 5, 3, nil}\n"


# -- objects --------------------------------------------------------------

def test_prototype_chain_lookup_and_type_name(run_pack):
    base = Value.object({"greeting": "hello", "x": 1})
    mid = Value.object({"x": 2}, prototype=base)
    obj = Value.object({"own": 3}, type_name="Thing", prototype=mid)
    main = fn("main", 0, 10, [
        I.load_const(0, obj),
        I.get_prop(1, 0, "own"),
        I.get_prop(2, 0, "x"),          # from mid, shadows base
        I.get_prop(3, 0, "greeting"),   # from base
        I.get_prop(4, 0, "missing"),    # nil
        I.type_of(5, 0),
        I.move(6, 0),
        I.new_tuple(7, 1, 6),
        I.return_reg(7),
    ])
    assert ok(run_pack(main)) == '{3, 2, "hello", nil, Thing, #Thing{own: 3}}\n'


def test_non_enumerable_properties_are_not_printed(run_pack):
    obj = Value.object({"a": 1, "secret": 2, "b": 3}, enumerable={"a": True, "secret": False})
    main = fn("main", 0, 3, [I.load_const(0, obj), I.get_prop(1, 0, "secret"),
                             I.new_tuple(2, 0, 2), I.return_reg(2)])
    assert ok(run_pack(main)) == "{#{a: 1, b: 3}, 2}\n"


def test_writing_a_non_writable_property_is_an_error(run_pack):
    obj = Value.object({"x": 1, "y": 2}, writable={"x": False})
    good = fn("main", 0, 3, [I.load_const(0, obj), I.load_int(1, 5), I.set_prop(0, "y", 1),
                             I.return_reg(0)])
    assert ok(run_pack(good)) == "#{x: 1, y: 5}\n"
    bad = fn("main", 0, 3, [I.load_const(0, obj), I.load_int(1, 5), I.set_prop(0, "x", 1),
                            I.return_reg(0)])
    run = run_pack(bad)
    assert run.returncode == 1, run
    assert run.stdout == ""
    assert "badprop" in run.stderr


def test_delete_needs_configurable_define_prop_sets_flags(run_pack):
    obj = Value.object({"fixed": 1, "loose": 2}, configurable={"loose"})
    main = fn("main", 0, 4, [
        I.load_const(0, obj),
        I.delete_prop(0, "loose"),
        I.load_int(1, 9),
        I.define_prop(0, "hidden", 1, 1),       # writable only: not printed
        I.get_prop(2, 0, "hidden"),
        I.new_tuple(3, 0, 3),
        I.return_reg(3),
    ])
    assert ok(run_pack(main)) == "{#{fixed: 1}, 9, 9}\n"
    bad = fn("main", 0, 1, [I.load_const(0, obj), I.delete_prop(0, "fixed"), I.return_reg(0)])
    run = run_pack(bad)
    assert run.returncode == 1 and "badprop" in run.stderr, run


def test_runtime_objects_and_set_proto(run_pack):
    main = fn("main", 0, 8, [
        I.new_object(0),
        I.load_int(1, 7),
        I.set_prop(0, "v", 1),
        I.new_object(2),
        I.set_proto(2, 0),
        I.get_prop(3, 2, "v"),           # inherited
        I.get_proto(4, 2),
        I.eq(5, 4, 0),                   # identity
        I.new_tuple(6, 3, 3),
        I.return_reg(6),
    ])
    assert ok(run_pack(main)) == "{7, #{v: 7}, true}\n"


def test_magic_methods_add_and_tostring(run_pack):
    # __add(a, b) returns a.v + b; __tostring returns "V"
    add = fn("vadd", 2, 2, [I.get_prop(2, 0, "v"), I.add(3, 2, 1), I.return_reg(3)])
    tostring = fn("vstr", 1, 1, [I.load_const(1, "V"), I.return_reg(1)])
    proto = Value.object({"__add": Value.function("vadd"), "__tostring": Value.function("vstr")})
    obj = Value.object({"v": 40}, prototype=proto)
    main = fn("main", 0, 6, [
        I.load_const(0, obj),
        I.load_int(1, 2),
        I.add(2, 0, 1),
        I.move(3, 0),
        I.new_tuple(4, 2, 2),
        I.return_reg(4),
    ])
    assert ok(run_pack([main, add, tostring])) == "{42, V}\n"


def test_call_magic_method(run_pack):
    call = fn("callme", 2, 1, [I.get_prop(2, 0, "k"), I.mul(2, 2, 1), I.return_reg(2)])
    obj = Value.object({"k": 6, "__call": Value.function("callme")})
    main = fn("main", 0, 4, [I.load_const(0, obj), I.load_int(2, 7), I.call(3, 0, 2, 1),
                             I.return_reg(3)])
    assert ok(run_pack([main, call])) == "42\n"


# -- functions ------------------------------------------------------------

def test_recursive_call_across_classes(run_pack):
    fib = fn("fib", 1, 4, [
        I.load_int(1, 2), I.jump_lt(0, 1, "base"),
        I.load_const(2, Value.function("fib")),
        I.add_imm(3, 0, -1), I.call(4, 2, 3, 1),
        I.add_imm(3, 0, -2), I.call(1, 2, 3, 1),
        I.add(4, 4, 1), I.return_reg(4),
        I.label("base"), I.return_reg(0)])
    main = fn("main", 0, 3, [I.load_const(0, Value.function("fib", class_name="Math")),
                             I.load_int(1, 20), I.call(2, 0, 1, 1), I.return_reg(2)])
    assert ok(run_pack([main], extra_classes={"Math": [fib]})) == "6765\n"


def test_closures_capture_and_update_upvalues(run_pack):
    # counter(): upvalue 0 is the count; each call adds 1 and returns it
    counter = fn("counter", 0, 2, [
        I.get_upval(0, 0), I.load_int(1, 1), I.add(0, 0, 1), I.set_upval(0, 0),
        I.return_reg(0)], upvalues=[("reg", 0)])
    # adder(x) = x + n + outer, n captured from make_adder's register 0 and
    # outer from make_adder's own upvalue 0
    adder = fn("adder", 1, 2, [I.get_upval(1, 0), I.add(1, 0, 1), I.get_upval(2, 1),
                               I.add(1, 1, 2), I.return_reg(1)],
               upvalues=[("reg", 0), ("upval", 0)])
    # make_adder is itself a closure over main's register 9 (1000)
    make_adder = fn("make_adder", 1, 1, [I.closure(1, "adder"), I.return_reg(1)],
                    upvalues=[("reg", 9)])
    main = fn("main", 0, 12, [
        I.load_int(0, 10),
        I.closure(1, "counter"),
        I.call(2, 1, 0, 0),             # 11
        I.call(3, 1, 0, 0),             # 12
        I.call(4, 1, 0, 0),             # 13
        I.load_int(9, 1000),
        I.closure(5, "make_adder"),
        I.load_int(6, 5),
        I.call(7, 5, 6, 1),             # adder over n=5, outer=1000
        I.load_int(8, 1),
        I.call(8, 7, 8, 1),             # 1 + 5 + 1000
        I.move(5, 8),
        I.new_tuple(10, 2, 4),
        I.return_reg(10),
    ])
    out = ok(run_pack([main, counter, adder, make_adder]))
    assert out == "{11, 12, 13, 1006}\n"


def test_tail_calls_run_in_constant_stack(run_pack):
    # loop(n, acc): n == 0 ? acc : loop(n - 1, acc + n), a million deep
    loop = fn("loop", 2, 3, [
        I.load_int(2, 0), I.jump_eq(0, 2, "done"),
        I.load_const(3, Value.function("loop")),
        I.add(1, 1, 0), I.add_imm(0, 0, -1),
        I.tail_call(3, 0, 2),
        I.label("done"), I.return_reg(1)])
    main = fn("main", 0, 3, [I.load_const(0, Value.function("loop")),
                             I.load_const(1, 1_000_000), I.load_int(2, 0),
                             I.call(0, 0, 1, 2), I.return_reg(0)])
    assert ok(run_pack([main, loop])) == "500000500000\n"


def test_argument_count_mismatch_is_an_error(run_pack):
    two = fn("two", 2, 0, [I.return_reg(0)])
    main = fn("main", 0, 2, [I.load_const(0, Value.function("two")), I.call(1, 0, 1, 1),
                             I.return_reg(1)])
    run = run_pack([main, two])
    assert run.returncode == 1, run


def test_entry_point_gets_command_line_arguments(run_pack):
    main = fn("main", 1, 2, [I.len(1, 0), I.new_tuple(2, 0, 2), I.return_reg(2)])
    assert ok(run_pack(main, "a", "bc")) == '{["a", "bc"], 2}\n'


# -- match ----------------------------------------------------------------

def classify():
    """classify(v): {ok, X} -> X; {error, _} -> failed; 42 -> answer;
    "hi" -> greeting; [A, B] -> A + B; anything else -> other."""
    return fn("classify", 1, 3, [
        I.match(0, [
            ((Value.atom("ok"), Pattern.bind(1)), "ok"),
            ((Value.atom("error"), Pattern.wildcard()), "error"),
            (42, "answer"),
            ("hi", "greeting"),
            (Pattern.array([Pattern.bind(1), Pattern.bind(2)]), "pair"),
        ]),
        I.load_const(1, Value.atom("other")), I.return_reg(1),
        I.label("ok"), I.return_reg(1),
        I.label("error"), I.load_const(1, Value.atom("failed")), I.return_reg(1),
        I.label("answer"), I.load_const(1, Value.atom("answer")), I.return_reg(1),
        I.label("greeting"), I.load_const(1, Value.atom("greeting")), I.return_reg(1),
        I.label("pair"), I.add(1, 1, 2), I.return_reg(1),
    ])


def test_match_arms_bind_and_jump(run_pack):
    inputs = [Value.tuple([Value.atom("ok"), 7]), Value.tuple([Value.atom("error"), "x"]),
              42, "hi", Value.array([1, 2]), Value.tuple([Value.atom("ok")]), 41]
    code = [I.load_const(0, Value.function("classify"))]
    for i, v in enumerate(inputs):
        code += [I.load_const(1, v), I.call(2 + i, 0, 1, 1)]
    code += [I.new_tuple(10, 2, len(inputs)), I.return_reg(10)]
    main = fn("main", 0, 11, code)
    assert ok(run_pack([main, classify()])) == \
        "{7, failed, answer, greeting, 3, other, other}\n"


# -- processes ------------------------------------------------------------

def test_spawn_send_receive(run_pack):
    # worker(parent, x): send {self, x * 2} to parent
    worker = fn("worker", 2, 3, [I.self(2), I.add(3, 1, 1), I.new_tuple(4, 2, 2),
                                 I.send(0, 4), I.return_nil()])
    main = fn("main", 0, 8, [
        I.self(0), I.load_int(1, 21), I.new_tuple(2, 0, 2),
        I.load_const(3, Value.function("worker")),
        I.spawn(4, 3, 2),
        I.receive(5),
        I.match(5, [((Pattern.bind(6), Pattern.bind(7)), "got")]),
        I.error(5),
        I.label("got"),
        I.eq(6, 6, 4),                 # the message came from the spawned pid
        I.new_tuple(5, 6, 2),
        I.return_reg(5),
    ])
    assert ok(run_pack([main, worker])) == "{true, 42}\n"


def test_messages_arrive_in_order(run_pack):
    sender = fn("sender", 1, 2, [I.load_int(1, 1), I.send(0, 1), I.load_int(1, 2), I.send(0, 1),
                                 I.load_int(1, 3), I.send(0, 1), I.return_nil()])
    main = fn("main", 0, 8, [
        I.self(0), I.new_tuple(1, 0, 1), I.load_const(2, Value.function("sender")),
        I.spawn(3, 2, 1), I.receive(4), I.receive(5), I.receive(6),
        I.new_tuple(7, 4, 3), I.return_reg(7)])
    assert ok(run_pack([main, sender])) == "{1, 2, 3}\n"


def test_receive_timeout_fires_and_message_wins(run_pack):
    sender = fn("sender", 1, 1, [I.load_const(1, Value.atom("ping")), I.send(0, 1),
                                 I.return_nil()])
    main = fn("main", 0, 8, [
        I.load_int(0, 20),
        I.receive_timeout(1, 0, "t1"),
        I.load_const(1, Value.atom("unexpected")),
        I.jump("next"),
        I.label("t1"),
        I.load_const(1, Value.atom("timeout")),
        I.label("next"),
        I.self(2), I.new_tuple(3, 2, 1), I.load_const(4, Value.function("sender")),
        I.spawn(5, 4, 3),
        I.load_int(0, 5000),
        I.receive_timeout(2, 0, "t2"),
        I.jump("done"),
        I.label("t2"),
        I.load_const(2, Value.atom("timeout")),
        I.label("done"),
        I.new_tuple(6, 1, 2),
        I.return_reg(6),
    ])
    assert ok(run_pack([main, sender])) == "{timeout, ping}\n"


def test_busy_process_cannot_starve_others(run_pack):
    spin = fn("spin", 0, 1, [I.label("top"), I.jump("top")])
    reply = fn("reply", 1, 1, [I.load_const(1, Value.atom("alive")), I.send(0, 1),
                               I.return_nil()])
    main = fn("main", 0, 6, [
        I.load_nil(0), I.load_const(1, Value.function("spin")), I.spawn(2, 1, 0),
        I.self(3), I.new_tuple(4, 3, 1), I.load_const(1, Value.function("reply")),
        I.spawn(2, 1, 4), I.receive(5), I.return_reg(5)])
    assert ok(run_pack([main, spin, reply], timeout=30)) == "alive\n"


def test_supervisor_restarts_crashed_worker(run_pack):
    # worker(parent, attempt): crashes on attempt 1, reports {done, attempt} on 2
    worker = fn("worker", 2, 2, [
        I.load_int(2, 1),
        I.jump_eq(1, 2, "crash"),
        I.load_const(2, Value.atom("done")), I.move(3, 1), I.new_tuple(2, 2, 2),
        I.send(0, 2), I.return_nil(),
        I.label("crash"),
        I.load_const(2, Value.atom("boom")), I.error(2),
    ])
    # supervisor: trap exits, spawn+link worker(1); on {EXIT, Pid, Reason}
    # remember Reason and spawn+link worker(2); then wait for {done, N}
    main = fn("main", 0, 14, [
        I.load_bool(0, 1), I.trap_exit(0),
        I.self(0), I.load_int(1, 1), I.new_tuple(2, 0, 2),
        I.load_const(3, Value.function("worker")),
        I.spawn(4, 3, 2), I.link(4),
        I.label("wait"),
        I.receive(5),
        I.match(5, [
            ((Value.atom("EXIT"), Pattern.bind(6), Pattern.bind(7)), "exited"),
            ((Value.atom("done"), Pattern.bind(8)), "done"),
        ]),
        I.error(5),
        I.label("exited"),
        I.eq(9, 6, 4),                  # the exit came from the worker we linked
        I.load_int(1, 2), I.new_tuple(2, 0, 2),
        I.spawn(4, 3, 2), I.link(4),
        I.jump("wait"),
        I.label("done"),
        I.load_const(10, Value.atom("restarted")),
        I.move(11, 7), I.move(12, 8), I.move(13, 9),
        I.new_tuple(10, 10, 4),
        I.return_reg(10),
    ])
    assert ok(run_pack([main, worker])) == "{restarted, {error, boom}, 2, true}\n"


def test_link_without_trap_propagates_crash(run_pack):
    crash = fn("crash", 0, 1, [I.load_const(0, Value.atom("bang")), I.error(0)])
    main = fn("main", 0, 4, [
        I.load_nil(0), I.load_const(1, Value.function("crash")), I.spawn(2, 1, 0),
        I.link(2), I.receive(3), I.return_reg(3)])
    run = run_pack([main, crash], timeout=30)
    assert run.returncode == 1, run
    assert "bang" in run.stderr


def test_monitor_reports_down_with_reason(run_pack):
    quit_ = fn("quit", 0, 1, [I.load_const(0, Value.atom("bye")), I.exit(0)])
    main = fn("main", 0, 10, [
        I.load_nil(0), I.load_const(1, Value.function("quit")), I.spawn(2, 1, 0),
        I.monitor(3, 2),
        I.receive(4),
        I.match(4, [((Value.atom("DOWN"), Pattern.bind(5), Pattern.bind(6), Pattern.bind(7)),
                     "down")]),
        I.error(4),
        I.label("down"),
        I.eq(8, 5, 3), I.eq(9, 6, 2),   # {DOWN, Ref, Pid, Reason} names our monitor
        I.new_tuple(0, 7, 3),           # {Reason, ref matches, pid matches}
        I.return_reg(0),
    ])
    out = ok(run_pack([main, quit_]))
    assert out == "{bye, true, true}\n"


# -- stdlib ---------------------------------------------------------------

def test_stdlib_math(run_pack):
    main = fn("main", 0, 10, [
        I.load_int(0, 16), *native(1, "math.sqrt", 0, 1, 9),
        I.load_const(0, 2.7), *native(2, "math.floor", 0, 1, 9),
        I.load_int(3, 2), I.load_int(4, 10), *native(5, "math.pow", 3, 2, 9),
        I.load_int(0, 0), *native(6, "math.sin", 0, 1, 9),
        *native(7, "math.cos", 0, 1, 9),
        I.new_tuple(8, 1, 2), I.move(3, 5), I.move(4, 6), I.move(5, 7),
        I.new_tuple(8, 1, 5), I.return_reg(8)])
    assert ok(run_pack(main)) == "{4, 2, 1024, 0, 1}\n"


def test_stdlib_string(run_pack):
    main = fn("main", 0, 16, [
        I.load_const(0, "a,b,c"), I.load_const(1, ","),
        *native(2, "string.split", 0, 2, 15),           # ["a", "b", "c"]
        I.move(3, 2), I.load_const(4, "-"),
        *native(5, "string.join", 3, 2, 15),            # "a-b-c"
        I.move(6, 5), *native(6, "string.upper", 6, 1, 15),
        I.load_const(7, "HeLLo"), *native(7, "string.lower", 7, 1, 15),
        I.move(8, 0), *native(8, "string.len", 8, 1, 15),
        I.load_const(9, "hello"), I.load_int(10, 1), I.load_int(11, 3),
        *native(9, "string.slice", 9, 3, 15),           # "el"
        I.load_const(10, "hello"), I.load_const(11, "ll"),
        *native(10, "string.find", 10, 2, 15),          # 2
        I.new_tuple(12, 5, 6),
        I.return_reg(12)])
    assert ok(run_pack(main)) == '{"a-b-c", "A-B-C", "hello", 5, "el", 2}\n'


def test_stdlib_array(run_pack):
    double = fn("double", 1, 0, [I.add(0, 0, 0), I.return_reg(0)])
    odd = fn("odd", 1, 2, [I.load_int(1, 2), I.mod(1, 0, 1), I.load_int(2, 1), I.eq(1, 1, 2),
                           I.return_reg(1)])
    main = fn("main", 0, 16, [
        I.load_const(0, Value.array([3, 1, 2])),
        I.load_int(1, 5), *native(2, "array.push", 0, 2, 15),      # [3, 1, 2, 5]
        *native(3, "array.len", 0, 1, 15),                         # 4
        *native(4, "array.pop", 0, 1, 15),                         # 5, array [3, 1, 2]
        *native(5, "array.sort", 0, 1, 15),                        # [1, 2, 3]
        I.move(6, 5), I.load_const(7, Value.function("double")),
        *native(6, "array.map", 6, 2, 15),                         # [2, 4, 6]
        I.move(7, 5), I.load_const(8, Value.function("odd")),
        *native(7, "array.filter", 7, 2, 15),                      # [1, 3]
        I.new_tuple(8, 3, 5),
        I.return_reg(8)])
    assert ok(run_pack([main, double, odd])) == "{4, 5, [1, 2, 3], [2, 4, 6], [1, 3]}\n"


def test_stdlib_io_print_and_system(run_pack):
    main = fn("main", 0, 8, [
        I.load_const(0, "printed"), *native(1, "io.print", 0, 1, 7),
        I.load_const(0, "echo out; exit 3"), *native(2, "io.system", 0, 1, 7),
        I.return_reg(2)])
    # strings in containers escape only quote and backslash
    assert ok(run_pack(main)) == 'printed\n{3, "out\n"}\n'


def test_stdlib_file_round_trip(run_pack, tmp_path):
    path = str(tmp_path / "f.txt")
    main = fn("main", 0, 6, [
        I.load_const(0, path), I.load_const(1, "line one\n"),
        *native(2, "io.write_file", 0, 2, 5),
        *native(3, "io.read_file", 0, 1, 5),
        I.return_reg(3)])
    assert ok(run_pack(main)) == "line one\n\n"
    assert (tmp_path / "f.txt").read_text() == "line one\n"


def test_process_stdlib_self_and_sleep(run_pack):
    main = fn("main", 0, 5, [
        I.load_int(0, 10), *native(1, "process.sleep", 0, 1, 4),
        *native(2, "process.self", 0, 0, 4),
        I.self(3), I.eq(3, 2, 3), I.return_reg(3)])
    assert ok(run_pack(main)) == "true\n"


# -- errors ---------------------------------------------------------------

def test_uncaught_error_exits_1_with_stack_trace(run_pack):
    inner = fn("inner", 0, 3, [I.nop(), I.load_const(0, "x"), I.load_int(1, 1),
                               I.sub(2, 0, 1), I.return_reg(2)])
    main = fn("main", 0, 2, [I.load_const(0, Value.function("inner")), I.call(1, 0, 0, 0),
                             I.return_reg(1)])
    run = run_pack([main, inner])
    assert run.returncode == 1, run
    assert run.stdout == ""
    assert "badarith" in run.stderr
    # the trace names the failing instruction (3 of inner), then the call
    # site (1 of main), innermost frame first
    trace = run.stderr
    at_inner = re.search(r"Main\.inner\b.*\b3\b.*\bsub\b", trace)
    at_main = re.search(r"Main\.main\b.*\b1\b.*\bcall\b", trace)
    assert at_inner and at_main, trace
    assert at_inner.start() < at_main.start()


def test_error_value_is_reported(run_pack):
    main = fn("main", 0, 1, [I.load_const(0, Value.tuple([Value.atom("my_error"), 7])),
                             I.error(0)])
    run = run_pack(main)
    assert run.returncode == 1, run
    assert "my_error" in run.stderr


def test_damaged_pack_is_a_load_error(run_pack, ionvm, tmp_path):
    import subprocess
    import zipfile
    b = IonPackBuilder("bad", "1")
    b.add_class("Main", fn("main", 0, 1, [I.load_int(0, 1), I.return_reg(0)]))
    b.main_class("Main").entry_point("main")
    data = bytearray(b.class_bytes()["Main"])
    data[-8] ^= 0xFF                                   # corrupt an instruction: CRC fails
    path = tmp_path / "bad.ionpack"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/MANIFEST.ion", b.manifest())
        z.writestr("classes/Main.ionc", bytes(data))
    proc = subprocess.run([str(ionvm), str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc
    assert "Main" in proc.stderr


def test_stdlib_format_print_and_variadics(run_pack):
    main = fn("main", 0, 10, [
        I.load_const(0, "{} + {} = {}"), I.load_int(1, 2), I.load_int(2, 3), I.load_int(3, 5),
        *native(4, "string.format", 0, 4, 9),           # "2 + 3 = 5"
        I.load_const(5, Value.atom("ok")), I.load_const(6, Value.array([1, "s"])),
        *native(7, "io.print", 4, 3, 9),                # space-separated
        I.load_int(5, 4), I.load_int(6, -1), I.load_int(7, 9),
        *native(8, "math.min", 5, 3, 9),
        I.return_reg(8)])
    assert ok(run_pack(main)) == '2 + 3 = 5 ok [1, "s"]\n-1\n'


def test_stdlib_sort_with_comparator_and_slice_from_end(run_pack):
    greater = fn("greater", 2, 0, [I.gt(0, 0, 1), I.return_reg(0)])
    main = fn("main", 0, 8, [
        I.load_const(0, Value.array([2, 9, 4])), I.load_const(1, Value.function("greater")),
        *native(2, "array.sort", 0, 2, 7),              # descending
        I.load_const(3, "abcdef"), I.load_int(4, -3), I.load_int(5, 6),
        *native(3, "string.slice", 3, 3, 7),            # "def"
        I.new_tuple(6, 2, 2),
        I.return_reg(6)])
    assert ok(run_pack([main, greater])) == '{[9, 4, 2], "def"}\n'


def test_stdlib_process_spawn_and_exit(run_pack):
    # child(parent, v) sends v back then exits with reason done; main
    # monitors it and sees both the message and the reason
    child = fn("child", 2, 2, [I.send(0, 1), I.load_const(2, Value.atom("done")),
                               *native(3, "process.exit", 2, 1, 3), I.return_nil()])
    main = fn("main", 0, 10, [
        I.load_const(0, Value.function("child")), I.self(1), I.load_int(2, 7),
        *native(3, "process.spawn", 0, 3, 9),
        I.monitor(4, 3),
        I.receive(5),
        I.receive(6),
        I.match(6, [((Value.atom("DOWN"), Pattern.wildcard(), Pattern.wildcard(),
                      Pattern.bind(7)), "down")]),
        I.error(6),
        I.label("down"),
        I.move(6, 7),
        I.new_tuple(8, 5, 2),
        I.return_reg(8)])
    assert ok(run_pack([main, child])) == "{7, done}\n"


def test_small_reduction_budget_gives_the_same_answer(run_pack):
    # a ring of messages under heavy preemption must still add up
    worker = fn("worker", 2, 2, [I.load_int(2, 0),
                                 I.label("spin"), I.add_imm(2, 2, 1), I.jump_lt(2, 1, "spin"),
                                 I.send(0, 2), I.return_nil()])
    main = fn("main", 0, 10, [
        I.self(0), I.load_int(1, 3000), I.new_tuple(2, 0, 2),
        I.load_const(3, Value.function("worker")),
        I.spawn(4, 3, 2), I.spawn(4, 3, 2), I.spawn(4, 3, 2),
        I.receive(5), I.receive(6), I.receive(7),
        I.add(5, 5, 6), I.add(5, 5, 7), I.return_reg(5)])
    assert ok(run_pack([main, worker], vm_args=("--reductions", "3"))) == "9000\n"


def test_garbage_is_collected(ionvm, tmp_path):
    # 20M short-lived tuples and arrays: well over 1 GiB if nothing were
    # freed. The bound is generous (sanitizer builds keep freed memory in
    # quarantine); the peak RSS of the child comes from wait4.
    import os
    import subprocess
    main = fn("main", 0, 6, [
        I.load_const(0, 20_000_000), I.load_int(1, 0), I.load_int(2, 7),
        I.label("loop"),
        I.new_tuple(3, 1, 2),
        I.new_array(4, 1, 2),
        I.add_imm(1, 1, 1),
        I.jump_lt(1, 0, "loop"),
        I.new_tuple(5, 3, 2),
        I.return_reg(5)])
    b = IonPackBuilder("gc", "1").add_class("Main", main).main_class("Main").entry_point("main")
    path = tmp_path / "gc.ionpack"
    b.build(str(path))
    with open(tmp_path / "out", "w+") as out:
        proc = subprocess.Popen([str(ionvm), str(path)], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    assert proc.returncode == 0, text
    assert text == "{{19999999, 7}, [19999999, 7]}\n"
    assert usage.ru_maxrss < 1024 * 1024, "peak RSS %d KiB" % usage.ru_maxrss


def test_loop_lt_counts_up_and_exits(run_pack):
    # sum of 0..9 with the counted-loop step, then the counter's final value
    main = fn("main", 0, 5, [
        I.load_int(0, 0), I.load_int(1, 10), I.load_int(2, 0),
        I.label("body"),
        I.add(2, 2, 0),
        I.loop_lt(0, 1, "body"),
        I.move(3, 0), I.move(4, 2), I.new_tuple(0, 3, 2),
        I.return_reg(0)])
    assert ok(run_pack(main)) == "{10, 45}\n"

"""Byte layout of instructions, constants and classes (docs/ionvm-bytecode.md).

Expected bytes are written out by hand from the spec, not produced by the
package, so a layout change in the encoder shows up here.
"""

import struct
import zlib

import pytest

from ionvm import (EncodeError, Function, Instruction, Label, Pattern, Value,
                   encode_class, encode_constant)


def word(op, a=0, b=0, c=0, d=0):
    return struct.pack("<Q", op | a << 8 | b << 16 | c << 32 | d << 48)


def split_class(data):
    """(header fields, payload) of a .ionc file, checking length and CRC."""
    magic, major, minor, flags, plen, crc = struct.unpack_from("<4sHHIII", data)
    payload = data[20:]
    assert magic == b"IONC"
    assert (major, minor, flags) == (1, 0, 0)
    assert plen == len(payload)
    assert crc == zlib.crc32(payload)
    return payload


def only_function(data, class_name="Main"):
    """Constant pool bytes and function bytes of a one-function class."""
    payload = split_class(data)
    name = class_name.encode()
    assert payload[:2 + len(name)] == struct.pack("<H", len(name)) + name
    return payload[2 + len(name):]


def test_hello_class_exact_bytes():
    main = Function(name="main", arity=0, extra_regs=1, instructions=[
        Instruction.load_const(0, Value.number(42)),
        Instruction.return_reg(0)])
    payload = (b"\x04\x00Main"                       # class name
               + b"\x01\x00\x00\x00"                 # one constant
               + b"\x03" + struct.pack("<d", 42.0)   # number 42
               + b"\x01\x00\x00\x00"                 # one function
               + b"\x04\x00main"                     # name
               + b"\x00"                             # arity 0
               + b"\x01\x00"                         # 1 register
               + b"\x00\x00"                         # no upvalues
               + b"\x02\x00\x00\x00"                 # 2 instructions
               + word(2, 0, 0)                       # load_const r0, K0
               + word(32, 0))                        # return_reg r0
    header = b"IONC\x01\x00\x00\x00\x00\x00\x00\x00" + struct.pack("<II", len(payload),
                                                                    zlib.crc32(payload))
    assert encode_class("Main", [main]) == header + payload


@pytest.mark.parametrize("ins, expected", [
    (Instruction.nop(), word(0)),
    (Instruction.move(3, 200), word(1, 3, 200)),
    (Instruction.load_bool(7, 1), word(4, 7, 1)),
    (Instruction.load_int(1, -2), word(5, 1, 0xFFFE)),
    (Instruction.load_int(1, 300), word(5, 1, 300)),
    (Instruction.add(1, 2, 3), word(6, 1, 2, 3)),
    (Instruction.add_imm(4, 4, -1), word(12, 4, 4, 0xFFFF)),
    (Instruction.call(0, 1, 2, 3), word(30, 0, 1, 2, 3)),
    (Instruction.tail_call(1, 2, 3), word(31, 0, 1, 2, 3)),
    (Instruction.new_tuple(0, 1, 2), word(39, 0, 1, 2)),
    (Instruction.spawn(5, 6, 7), word(51, 5, 6, 7)),
    (Instruction.send(1, 2), word(52, 1, 2)),
    (Instruction.self(9), word(55, 9)),
    (Instruction.error(4), word(61, 4)),
])
def test_instruction_words(ins, expected):
    fn = Function("f", arity=0, extra_regs=256, instructions=[ins, Instruction.return_nil()])
    body = only_function(encode_class("Main", [fn]))
    # no constants; function header is 2+1 name, arity, NR, NU, NI
    fn_bytes = body[4 + 4:]
    assert fn_bytes[:3] == b"\x01\x00f"
    assert fn_bytes[3:8] == b"\x00\x00\x01\x00\x00"     # arity 0, NR 256, NU 0
    assert fn_bytes[8:12] == b"\x02\x00\x00\x00"
    assert fn_bytes[12:20] == expected
    assert fn_bytes[20:] == word(33)


def test_labels_and_int_targets_are_absolute_indexes():
    fn = Function("loop", arity=1, extra_regs=1, instructions=[
        Instruction.load_int(1, 0),                 # 0
        Label("top"),
        Instruction.jump_le(0, 1, "done"),          # 1
        Instruction.add_imm(0, 0, -1),              # 2
        Instruction.jump("top"),                    # 3
        Instruction.label("done"),
        Instruction.jump_if(0, 1),                  # 4: int target = user index 1
        Instruction.return_reg(0),                  # 5
    ])
    body = only_function(encode_class("Main", [fn]))
    code = body[4 + 4 + 2 + 4 + 1 + 2 + 2 + 4:]
    assert code == (word(5, 1, 0) + word(27, 0, 1, 4) + word(12, 0, 0, 0xFFFF) +
                    word(23, 0, 1) + word(24, 0, 1) + word(32, 0))


@pytest.mark.parametrize("value, expected", [
    (Value.nil(), b"\x00"),
    (Value.boolean(False), b"\x01"),
    (Value.boolean(True), b"\x02"),
    (Value.number(-0.5), b"\x03" + struct.pack("<d", -0.5)),
    (Value.string("hé"), b"\x04\x03\x00\x00\x00h\xc3\xa9"),
    (Value.atom("ok"), b"\x05\x02\x00ok"),
    (Value.complex(1, -2), b"\x06" + struct.pack("<dd", 1.0, -2.0)),
    (Value.tuple([Value.atom("a"), 1]), b"\x07\x02\x00\x00\x00\x05\x01\x00a\x03"
     + struct.pack("<d", 1.0)),
    (Value.array([]), b"\x08\x00\x00\x00\x00"),
    (Value.array([None, True]), b"\x08\x02\x00\x00\x00\x00\x02"),
    (Value.function("fib"), b"\x0a\x00\x00\x03\x00fib"),
    (Value.function("run", class_name="Lib"), b"\x0a\x03\x00Lib\x03\x00run"),
    (Value.native("io.print"), b"\x0b\x08\x00io.print"),
])
def test_constant_bytes(value, expected):
    assert encode_constant(value) == expected


def test_python_values_convert():
    assert Value.of(3) == Value.number(3.0)
    assert Value.of((1, "s", None)) == Value.tuple([Value.number(1), Value.string("s"),
                                                    Value.nil()])
    assert Value.of([True]) == Value.array([Value.boolean(True)])
    assert Value.of(2j) == Value.complex(0, 2)
    with pytest.raises(ValueError):
        Value.number(2 ** 53 + 1)


def test_object_descriptors_and_type_name():
    obj = Value.object({"x": 1, "y": 2, "z": 3}, writable={"x": False},
                       enumerable={"z"}, configurable=False, type_name="Point")
    expected = (b"\x09\x05\x00Point\x03\x00\x00\x00"
                + b"\x01\x00x" + bytes([0]) + b"\x03" + struct.pack("<d", 1.0)   # no flag
                + b"\x01\x00y" + bytes([1]) + b"\x03" + struct.pack("<d", 2.0)   # writable only
                + b"\x01\x00z" + bytes([3]) + b"\x03" + struct.pack("<d", 3.0))  # w + e
    assert encode_constant(obj) == expected


def test_object_default_flags_are_7_and_no_type_name():
    assert encode_constant(Value.object({"k": "v"})) == \
        b"\x09\x00\x00\x01\x00\x00\x00\x01\x00k\x07\x04\x01\x00\x00\x00v"


def test_object_prototype_expands_to_set_proto_with_a_scratch_register():
    base = Value.object({"z": 3})
    mid = Value.object({"y": 2}, prototype=base)
    obj = Value.object({"x": 1}, prototype=mid)
    fn = Function("main", 0, 2, [Instruction.load_const(1, obj), Instruction.return_reg(1)])
    body = only_function(encode_class("Main", [fn]))
    ks = [encode_constant(Value.object({"z": 3})), encode_constant(Value.object({"y": 2})),
          encode_constant(Value.object({"x": 1}))]
    assert body[:4] == b"\x03\x00\x00\x00"
    assert body[4:4 + sum(map(len, ks))] == b"".join(ks)
    rest = body[4 + sum(map(len, ks)) + 4:]
    assert rest[:7] == b"\x04\x00main\x00"
    assert rest[7:9] == b"\x03\x00"            # 2 registers + 1 scratch (r2)
    assert rest[11:15] == b"\x06\x00\x00\x00"
    # z into r1, y into r2, link, x into r1, link
    assert rest[15:] == (word(2, 1, 0) + word(2, 2, 1) + word(47, 2, 1) + word(2, 1, 2) +
                         word(47, 1, 2) + word(32, 1))


def test_nested_prototype_is_refused():
    inner = Value.object({}, prototype=Value.object({}))
    fn = Function("main", 0, 1, [Instruction.load_const(0, Value.array([inner])),
                                 Instruction.return_reg(0)])
    with pytest.raises(EncodeError, match="prototype"):
        encode_class("Main", [fn])


def test_equal_constants_share_a_pool_entry():
    fn = Function("main", 0, 2, [
        Instruction.load_const(0, Value.string("a")),
        Instruction.load_const(1, "a"),
        Instruction.get_prop(1, 0, "a"),            # atom a: a different constant
        Instruction.return_reg(1)])
    body = only_function(encode_class("Main", [fn]))
    assert body[:4] == b"\x02\x00\x00\x00"


def test_match_table_bytes():
    fn = Function("m", 1, 2, [
        Instruction.match(0, [
            ((Value.atom("ping"), Pattern.bind(1)), "ping"),
            (Pattern.wildcard(), "other"),
        ]),
        Instruction.label("ping"),
        Instruction.return_reg(1),
        Instruction.label("other"),
        Instruction.return_nil(),
    ])
    body = only_function(encode_class("Main", [fn]))
    table = (b"\x0c\x02\x00"
             + b"\x03\x02\x00" + b"\x02\x05\x04\x00ping" + b"\x01\x01" + b"\x01\x00"
             + b"\x00" + b"\x02\x00")
    assert body[:4] == b"\x01\x00\x00\x00"
    assert body[4:4 + len(table)] == table


def test_closure_upvalue_descriptors():
    inner = Function("inner", 0, 1, [Instruction.get_upval(0, 1), Instruction.return_reg(0)],
                     upvalues=[("reg", 3), ("upval", 2)])
    body = only_function(encode_class("Main", [inner]))
    fn = body[4 + 4:]
    assert fn[:7] == b"\x05\x00inner"
    assert fn[7:12] == b"\x00\x01\x00\x02\x00"             # arity 0, NR 1, NU 2
    assert fn[12:18] == b"\x00\x03\x00\x01\x02\x00"       # (reg 3), (upval 2)


@pytest.mark.parametrize("instructions, message", [
    ([Instruction.move(0, 1), Instruction.return_nil()], "register 1"),
    ([Instruction.jump("nowhere")], "unknown label"),
    ([Instruction.jump(5)], "past the end"),
    ([Instruction.load_nil(0)], "last instruction"),
    ([Instruction.new_array(0, 0, 2), Instruction.return_reg(0)], "register range"),
    ([Instruction.get_upval(0, 0), Instruction.return_reg(0)], "upvalue 0"),
    ([Instruction.define_prop(0, "k", 0, 9), Instruction.return_nil()], "flags"),
    ([Instruction.match(0, [(Pattern.bind(4), 0)]), Instruction.return_nil()], "binds register"),
])
def test_verifier_errors(instructions, message):
    fn = Function("f", 0, 1, instructions)
    with pytest.raises(EncodeError, match=message):
        encode_class("Main", [fn])


def test_constructor_argument_checks():
    with pytest.raises(TypeError):
        Instruction.add(1, 2)
    with pytest.raises(ValueError):
        Instruction.move(256, 0)
    with pytest.raises(ValueError):
        Instruction.load_int(0, 40000)
    with pytest.raises(TypeError):
        Instruction.load_const(0, Value.closure("f"))
    with pytest.raises(TypeError):
        Instruction.get_prop(0, 1, 3)
    assert Instruction.add(dst=1, a=2, b=3) == Instruction.add(1, 2, 3)


def test_int_jump_targets_follow_prototype_expansion():
    obj = Value.object({"x": 1}, prototype=Value.object({"y": 2}))
    fn = Function("f", 0, 2, [
        Instruction.load_const(0, obj),             # user 0 -> emitted 0..2
        Instruction.jump_if(0, 2),                  # user 1 -> emitted 3, target user 2
        Instruction.return_reg(0),                  # user 2 -> emitted 4
    ])
    body = only_function(encode_class("Main", [fn]))
    code = body[-8 * 5:]
    assert code[8 * 3:8 * 4] == word(24, 0, 4)


def test_property_list_form_and_python_shorthands():
    from ionvm import Property
    a = Value.object([Property("k", 1, writable=False, enumerable=True, configurable=False)])
    b = Value.object({"k": 1}, writable=False, configurable=False)
    assert a == b
    assert encode_constant(a)[-10] == 2          # flags byte: enumerable only
    with pytest.raises(ValueError, match="unknown properties"):
        Value.object({"k": 1}, writable={"nope": True})

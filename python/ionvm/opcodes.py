"""The IonVM instruction set, as the Python side sees it.

This is a transcription of the X-macro table in ion/opcodes.h (format 1.0):
one row per opcode in opcode-number order, with the operand mode of each of
the four slots a, b, c, d and the names the Python constructor gives to the
used operands. tests/test_opcodes.py parses ion/opcodes.h and fails if the
two tables ever differ, so the C table stays the single source of truth.

Modes: X unused, R register, G first register of a range (the next slot, N,
is its length), K constant, J jump target, U upvalue, N unsigned immediate,
I signed 16-bit immediate.
"""

# name, (mode a, b, c, d), operand names for the used slots
OPCODES = (
    ("nop",             "XXXX", ()),
    ("move",            "RRXX", ("dst", "src")),
    ("load_const",      "RKXX", ("dst", "const")),
    ("load_nil",        "RXXX", ("dst",)),
    ("load_bool",       "RNXX", ("dst", "flag")),
    ("load_int",        "RIXX", ("dst", "imm")),
    ("add",             "RRRX", ("dst", "a", "b")),
    ("sub",             "RRRX", ("dst", "a", "b")),
    ("mul",             "RRRX", ("dst", "a", "b")),
    ("div",             "RRRX", ("dst", "a", "b")),
    ("mod",             "RRRX", ("dst", "a", "b")),
    ("pow",             "RRRX", ("dst", "a", "b")),
    ("add_imm",         "RRIX", ("dst", "src", "imm")),
    ("neg",             "RRXX", ("dst", "src")),
    ("logical_not",     "RRXX", ("dst", "src")),
    ("logical_and",     "RRRX", ("dst", "a", "b")),
    ("logical_or",      "RRRX", ("dst", "a", "b")),
    ("eq",              "RRRX", ("dst", "a", "b")),
    ("ne",              "RRRX", ("dst", "a", "b")),
    ("lt",              "RRRX", ("dst", "a", "b")),
    ("le",              "RRRX", ("dst", "a", "b")),
    ("gt",              "RRRX", ("dst", "a", "b")),
    ("ge",              "RRRX", ("dst", "a", "b")),
    ("jump",            "XJXX", ("target",)),
    ("jump_if",         "RJXX", ("cond", "target")),
    ("jump_if_not",     "RJXX", ("cond", "target")),
    ("jump_lt",         "RRJX", ("a", "b", "target")),
    ("jump_le",         "RRJX", ("a", "b", "target")),
    ("jump_eq",         "RRJX", ("a", "b", "target")),
    ("jump_ne",         "RRJX", ("a", "b", "target")),
    ("call",            "RRGN", ("dst", "func", "argbase", "nargs")),
    ("tail_call",       "XRGN", ("func", "argbase", "nargs")),
    ("return_reg",      "RXXX", ("src",)),
    ("return_nil",      "XXXX", ()),
    ("closure",         "RKXX", ("dst", "func")),
    ("get_upval",       "RUXX", ("dst", "upval")),
    ("set_upval",       "RUXX", ("src", "upval")),
    ("new_object",      "RXXX", ("dst",)),
    ("new_array",       "RGNX", ("dst", "base", "count")),
    ("new_tuple",       "RGNX", ("dst", "base", "count")),
    ("get_prop",        "RRKX", ("dst", "obj", "key")),
    ("set_prop",        "RKRX", ("obj", "key", "src")),
    ("define_prop",     "RKRN", ("obj", "key", "src", "flags")),
    ("delete_prop",     "RKXX", ("obj", "key")),
    ("get_index",       "RRRX", ("dst", "obj", "index")),
    ("set_index",       "RRRX", ("obj", "index", "src")),
    ("get_proto",       "RRXX", ("dst", "obj")),
    ("set_proto",       "RRXX", ("obj", "proto")),
    ("len",             "RRXX", ("dst", "src")),
    ("type_of",         "RRXX", ("dst", "src")),
    ("match",           "RKXX", ("src", "table")),
    ("spawn",           "RRRX", ("dst", "func", "args")),
    ("send",            "RRXX", ("pid", "msg")),
    ("receive",         "RXXX", ("dst",)),
    ("receive_timeout", "RRJX", ("dst", "timeout", "target")),
    ("self",            "RXXX", ("dst",)),
    ("link",            "RXXX", ("pid",)),
    ("unlink",          "RXXX", ("pid",)),
    ("monitor",         "RRXX", ("dst", "pid")),
    ("trap_exit",       "RXXX", ("flag",)),
    ("exit",            "RXXX", ("reason",)),
    ("error",           "RXXX", ("value",)),
    ("loop_lt",         "RRJX", ("counter", "limit", "target")),
)

OPCODE_NUMBER = {name: i for i, (name, _, _) in enumerate(OPCODES)}
OPCODE_MODES = {name: modes for name, modes, _ in OPCODES}

# What the K operand of an opcode must be (the verifier's kind rules).
K_PROPERTY_KEY = frozenset(("get_prop", "set_prop", "define_prop", "delete_prop"))

# Instructions after which execution cannot fall through to the next one.
TERMINATORS = frozenset(("jump", "tail_call", "return_reg", "return_nil", "exit", "error"))

# Property descriptor flag bits (object constants and define_prop).
WRITABLE = 1
ENUMERABLE = 2
CONFIGURABLE = 4

FORMAT_MAJOR = 1
FORMAT_MINOR = 0

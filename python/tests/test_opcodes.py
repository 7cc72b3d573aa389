"""The Python opcode table must equal the X-macro table in ion/opcodes.h,
and every opcode must have its Instruction constructor."""

import re

import pytest

from conftest import ion_root
from ionvm import Instruction, OPCODES

ROW = re.compile(r"OP\(\s*(\w+)\s*,\s*([XRGKJUNI])\s*,\s*([XRGKJUNI])\s*,\s*([XRGKJUNI])\s*,"
                 r"\s*([XRGKJUNI])\s*,")


@pytest.fixture(scope="module")
def c_table():
    path = ion_root() / "ion" / "opcodes.h"
    if not path.is_file():
        pytest.fail("%s not found: set ION_ROOT to the tree holding ion/opcodes.h" % path)
    rows = [(m[0], "".join(m[1:])) for m in ROW.findall(path.read_text())]
    assert len(rows) > 40, "could not parse the opcode table in %s" % path
    return rows


def test_python_table_matches_c_table(c_table):
    assert [(name, modes) for name, modes, _ in OPCODES] == c_table


def test_every_opcode_has_a_constructor(c_table):
    for number, (name, modes) in enumerate(c_table):
        ctor = getattr(Instruction, name, None)
        assert callable(ctor), "no Instruction.%s" % name
        nargs = len(modes.replace("X", ""))
        args = []
        for m in modes.replace("X", ""):
            args.append({"K": 0, "J": 0}.get(m, 0))
        if name == "match":
            args[1] = [(0, 0)]
        elif name == "closure":
            args[1] = "f"
        elif name in ("get_prop", "set_prop", "define_prop", "delete_prop"):
            args[[i for i, m in enumerate(modes.replace("X", "")) if m == "K"][0]] = "k"
        ins = ctor(*args)
        assert ins.op == name and len(ins.operands) == nargs

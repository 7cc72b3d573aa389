"""ionvm.call: the literal syntax of `arcvm call` from Python, and call()
driving a stand-in for the arcvm command (the real one runs in the Linux
tier, tests/linux/test_call.py)."""
import math
import os
import stat
import sys

import pytest

from ionvm import Function, Instruction as I
from ionvm.call import (Atom, CallError, GuestError, IonObject, call, parse_literal,
                        to_literal)

# The canonical forms of ion/tests/test_literal.c: parsed and printed back
# unchanged by both implementations.
CANONICAL = [
    "nil", "true", "false", "42", "-3", "0", "-0", "0.1", "1e+300", "-2.5", "nan", "inf",
    "-inf", '""', '"caf\u00e9 \\xc3"', '"hi \\"there\\""', '"\\x00\\xff\\n\\t\\\\"', "ok",
    "'two words'", "'nil'", "1+2i", "0-1.5i", "inf+nani", "{}", "[]", '{1, ok, "s"}',
    "[1, [2, [3]], {}]", "#{}", "#{x: 1, y: 2}", "#Point{x: 1.5, tags: [ok, nil, true], z: 1-2i}",
    '#{ro/e: 1, hidden/w: 2, none/: 3, "odd key": 4}', '{#{a: {["\\x01"]}}, -0+0i}',
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_round_trip(text):
    v = parse_literal(text)
    if text == "nan":
        assert math.isnan(v)
    assert to_literal(v) == text


def test_python_values():
    assert parse_literal("42") == 42 and isinstance(parse_literal("42"), int)
    assert parse_literal("0.5") == 0.5
    assert math.copysign(1, parse_literal("-0")) < 0
    assert parse_literal('"caf\u00e9"') == "caf\u00e9"
    assert parse_literal('"\\xff\\x00"') == b"\xff\x00"
    assert parse_literal("ok") == Atom("ok") and isinstance(parse_literal("ok"), Atom)
    assert parse_literal("{1, [2], #{k: nil}}") == (1, [2], {"k": None})
    obj = parse_literal("#P{x/e: 1}")
    assert isinstance(obj, IonObject) and obj.type_name == "P" and obj.flags == {"x": "e"}
    assert to_literal(b"\x00bin\xff") == '"\\x00bin\\xff"'
    assert to_literal("\x9b[2J") == '"\\xc2\\x9b[2J"'      # a C1 CSI is escaped
    assert to_literal({"a b": (1.5, [True])}) == '#{"a b": {1.5, [true]}}'
    assert to_literal(IonObject({"x": 1}, "Pt", {"x": "we"})) == "#Pt{x/we: 1}"


@pytest.mark.parametrize("text,msg", [
    ("", "expected a value"), ("[1,", "expected a value"), ("[1 2]", "expected ','"),
    ('"abc', "unterminated"), ('"\\q"', "bad escape"), ("1+2", "ends with 'i'"),
    ("1 2", "unexpected text"), ("#{x 1}", "expected ':'"), ("@", "unexpected"),
    ("[" * 40 + "]" * 40, "nested deeper"),
])
def test_bad_literals(text, msg):
    with pytest.raises(ValueError, match=msg):
        parse_literal(text)


def test_refused_python_values():
    with pytest.raises(TypeError, match="functions and pids"):
        to_literal(print)
    with pytest.raises(ValueError, match="not exactly representable"):
        to_literal(2 ** 60 + 1)
    with pytest.raises(TypeError, match="keys"):
        to_literal({1: 2})


@pytest.fixture
def fake_arcvm(tmp_path):
    """A stand-in for arcvm: records its argv, checks the pack is a zip,
    prints what the test asks for and exits with the given status."""
    script = tmp_path / "arcvm"
    script.write_text(
        "#!%s\nimport json, os, sys, zipfile\n"
        "json.dump(sys.argv[1:], open(os.environ['FAKE_LOG'], 'w'))\n"
        "pack = [a for a in sys.argv if a.endswith('.ionpack')][0]\n"
        "assert 'classes/Main.ionc' in zipfile.ZipFile(pack).namelist()\n"
        "sys.stdout.write(os.environ['FAKE_OUT']); sys.stderr.write(os.environ['FAKE_ERR'])\n"
        "sys.exit(int(os.environ['FAKE_STATUS']))\n" % sys.executable)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)

    def run(out="", err="", status=0):
        os.environ.update(FAKE_LOG=str(tmp_path / "argv.json"), FAKE_OUT=out, FAKE_ERR=err,
                          FAKE_STATUS=str(status))
        return script
    return run


ADD = Function(name="add", arity=2, extra_regs=1, instructions=[I.add(2, 0, 1), I.return_reg(2)])


def test_call_builds_the_pack_and_parses_the_result(fake_arcvm, tmp_path):
    import json
    arcvm = fake_arcvm(out="printed by the function\n{42, \"\\xff\"}\n")
    r = call(ADD, 40, b"\xff", arcvm=arcvm, vm_options=["--mem", "1G"])
    assert r == (42, b"\xff")
    argv = json.load(open(tmp_path / "argv.json"))
    assert argv[:3] == ["call", "--mem", "1G"] and argv[3].endswith(".ionpack")
    assert argv[4:] == ["--arg", "40", "--arg", '"\\xff"']


def test_call_errors(fake_arcvm):
    with pytest.raises(GuestError, match="Main.add"):
        call(ADD, 1, 2, arcvm=fake_arcvm(err="arcvm: ... at Main.add\n", status=1))
    with pytest.raises(CallError) as e:
        call(ADD, 1, 2, arcvm=fake_arcvm(err="arcvm: refused\n", status=2))
    assert e.value.status == 2 and not isinstance(e.value, GuestError)

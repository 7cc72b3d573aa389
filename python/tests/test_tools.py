"""Cross-check against the C tools: iondis prints a pack built by this
package, ionasm assembles that text back, and the class bytes must be the
ones the Python encoder wrote (constants, match tables, objects, closures,
natives and every operand mode go through both implementations)."""

import subprocess
import sys

import pytest

from conftest import PYTHON_DIR

sys.path.insert(0, str(PYTHON_DIR.parent / "bench" / "ion"))

import programs  # noqa: E402
from ionvm import Function, Instruction as I, IonPackBuilder, Pattern, Value  # noqa: E402


def kitchen_sink():
    inner = Function("inner", 1, 2, [I.get_upval(1, 0), I.add(1, 1, 0), I.set_upval(1, 0),
                                     I.return_reg(1)], upvalues=[("reg", 2)])
    obj = Value.object({"a": 1, "b": Value.array(["s", Value.atom("t"), None, False]),
                        "c": Value.complex(1.5, -2)},
                       writable={"a": False}, enumerable={"b": False}, type_name="Thing",
                       prototype=Value.object({"p": Value.tuple([True, 2.25])}))
    main = Function("main", 0, 8, [
        I.load_const(0, obj),
        I.load_const(1, Value.native("math.sqrt")),
        I.load_const(7, Value.tuple([float("nan"), -0.0, float("inf"), 1e-300, "q\"\\\n\t\x01é"])),
        I.load_int(2, -7),
        I.closure(3, "inner"),
        I.define_prop(0, "d", 2, 6),
        I.match(2, [((Value.atom("x"), Pattern.bind(4)), "end"),
                    ([Pattern.wildcard(), "s", 3.5, Value.complex(0, 1)], "end"),
                    (Pattern.bind(5), "end")]),
        I.label("end"),
        I.new_array(6, 0, 2),
        I.load_int(2, 1),
        I.receive_timeout(7, 2, "out"),
        I.label("out"),
        I.return_reg(6),
    ])
    return [main, inner]


CASES = dict(("bench_" + name, lambda name=name: programs.PROGRAMS[name](100))
             for name in programs.PROGRAMS)
CASES["kitchen_sink"] = kitchen_sink


@pytest.mark.parametrize("case", sorted(CASES))
def test_iondis_ionasm_round_trip_gives_the_same_bytes(case, ionvm, tmp_path):
    tools = ionvm.parent
    b = IonPackBuilder("roundtrip", "1.0.0")
    b.add_class("Main", CASES[case]())
    b.main_class("Main").entry_point("main")
    pack = tmp_path / "p.ionpack"
    b.build(str(pack))
    dis = subprocess.run([str(tools / "iondis"), str(pack)], capture_output=True, text=True,
                         timeout=30)
    assert dis.returncode == 0, dis.stderr
    src = tmp_path / "p.ionasm"
    src.write_text(dis.stdout)
    out = tmp_path / "Main.ionc"
    asm = subprocess.run([str(tools / "ionasm"), str(src), "-o", str(out)], capture_output=True,
                         text=True, timeout=30)
    assert asm.returncode == 0, asm.stderr
    assert out.read_bytes() == b.class_bytes()["Main"]

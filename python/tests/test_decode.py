"""decode_class reads back what encode_class wrote."""

import pytest

from ionvm import Function, Instruction as I, Pattern, Value, encode_class
from ionvm.decode import DecodeError, decode_class, disassemble, main
from test_tools import kitchen_sink


def test_round_trip_structure():
    data = encode_class("Main", kitchen_sink())
    cls = decode_class(data)
    assert cls["name"] == "Main" and cls["version"] == (1, 0)
    names = [f["name"] for f in cls["functions"]]
    assert names == ["main", "inner"]
    inner = cls["functions"][1]
    assert (inner["arity"], inner["registers"], inner["upvalues"]) == (1, 3, [(0, 2)])
    assert inner["code"][0] == (35, 1, 0, 0, 0)               # get_upval r1, u0
    assert Value.native("math.sqrt") in cls["constants"]
    assert Value.function("inner") in cls["constants"]
    arms = [k for k in cls["constants"] if isinstance(k, list)]
    assert len(arms) == 1 and [t for _, t in arms[0]] == [9, 9, 9]   # after the prototype expansion
    assert repr(arms[0][0][0]) == repr(Pattern.tuple([Value.atom("x"), Pattern.bind(4)]))


def test_decoded_constants_reencode_identically():
    data = encode_class("Main", kitchen_sink())
    from ionvm import encode_constant
    for k in decode_class(data)["constants"]:
        if not isinstance(k, list):
            assert encode_constant(k) in data


def test_disassembly_text():
    fn = Function("main", 0, 2, [I.load_int(0, -3), I.jump_if(0, 2), I.return_reg(0)])
    text = disassemble(encode_class("Main", [fn]))
    assert "function main/0 registers 2" in text
    assert "load_int         r0 -3" in text
    assert "jump_if          r0 @2" in text


@pytest.mark.parametrize("damage", [lambda d: d[:-1], lambda d: b"XONC" + d[4:],
                                    lambda d: d[:30] + bytes([d[30] ^ 1]) + d[31:]])
def test_damaged_input_is_refused(damage):
    data = encode_class("Main", [Function("f", 0, 1, [I.return_nil()])])
    with pytest.raises(DecodeError):
        decode_class(damage(data))


def test_command_line(tmp_path, capsys):
    path = tmp_path / "c.ionc"
    path.write_bytes(encode_class("Main", [Function("f", 0, 1, [I.return_nil()])]))
    assert main([str(path)]) == 0
    assert "return_nil" in capsys.readouterr().out
    assert main([str(tmp_path / "missing")]) == 1

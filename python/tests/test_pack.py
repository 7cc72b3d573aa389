"""Manifest text and zip layout of packs (docs/ionpack.md), and the link
checks the builder makes before writing."""

import io
import zipfile

import pytest

from ionvm import BuildError, EncodeError, Function, Instruction, IonPackBuilder, Value, encode_class


def hello():
    return Function(name="main", arity=0, extra_regs=1, instructions=[
        Instruction.load_const(0, Value.number(42)),
        Instruction.return_reg(0)])


def builder_with(*fns, main="main"):
    b = IonPackBuilder("hello-world", "1.0.0")
    b.add_class("Main", *fns)
    b.main_class("Main")
    b.entry_point(main)
    return b


def test_manifest_text():
    b = builder_with(hello())
    assert b.manifest() == ("manifest-version: 1\n"
                            "name: hello-world\n"
                            "version: 1.0.0\n"
                            "main-class: Main\n"
                            "entry-point: main\n"
                            "format-version: 1.0\n")
    b.description("says 42")
    assert b.manifest().endswith("format-version: 1.0\ndescription: says 42\n")


def test_zip_layout_and_contents(tmp_path):
    helper = Function("helper", 0, 1, [Instruction.return_nil()])
    b = builder_with(hello())
    b.add_class("Util", helper)
    b.add_resource("data/words.txt", "a b c")
    b.add_source("main.py", b"print(42)")
    b.add_lib("README", "lib")
    path = tmp_path / "hello.ionpack"
    with open(path, "wb") as f:
        b.build(f)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        names = z.namelist()
        assert names == ["META-INF/MANIFEST.ion", "classes/Main.ionc", "classes/Util.ionc",
                         "lib/README", "resources/data/words.txt", "src/main.py"]
        assert z.read("META-INF/MANIFEST.ion").decode() == b.manifest()
        assert z.read("classes/Main.ionc") == encode_class("Main", [hello()])
        assert z.read("classes/Util.ionc") == encode_class("Util", [helper])
        assert z.read("resources/data/words.txt") == b"a b c"
        for info in z.infolist():
            assert info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def test_build_is_deterministic():
    assert builder_with(hello()).to_bytes() == builder_with(hello()).to_bytes()


def test_build_to_path_and_bytes_agree(tmp_path):
    path = tmp_path / "p.ionpack"
    builder_with(hello()).build(str(path))
    assert path.read_bytes() == builder_with(hello()).to_bytes()
    buf = io.BytesIO()
    builder_with(hello()).build(buf)
    assert buf.getvalue() == path.read_bytes()


def test_missing_manifest_fields():
    b = IonPackBuilder("x", "1")
    b.add_class("Main", hello())
    with pytest.raises(BuildError, match="main class"):
        b.to_bytes()
    b.main_class("Main")
    with pytest.raises(BuildError, match="entry point"):
        b.to_bytes()


def test_entry_point_must_exist_with_arity_0_or_1():
    with pytest.raises(BuildError, match="does not exist"):
        builder_with(hello(), main="nope").to_bytes()
    two = Function("two", 2, 0, [Instruction.return_nil()])
    with pytest.raises(BuildError, match="arity"):
        builder_with(two, main="two").to_bytes()


def test_unknown_function_reference():
    main = Function("main", 0, 1, [Instruction.load_const(0, Value.function("ghost")),
                                   Instruction.return_reg(0)])
    with pytest.raises(BuildError, match="unknown function Main.ghost"):
        builder_with(main).to_bytes()
    other = Function("main", 0, 1, [Instruction.load_const(0, Value.function("f", "Lib")),
                                    Instruction.return_reg(0)])
    b = builder_with(other)
    with pytest.raises(BuildError, match="Lib.f"):
        b.to_bytes()
    b.add_class("Lib", Function("f", 0, 1, [Instruction.return_nil()]))
    assert b.to_bytes()


def test_function_with_upvalues_needs_closure():
    inner = Function("inner", 0, 1, [Instruction.get_upval(0, 0), Instruction.return_reg(0)],
                     upvalues=[("reg", 0)])
    bad = Function("main", 0, 1, [Instruction.load_const(0, Value.function("inner")),
                                  Instruction.return_reg(0)])
    with pytest.raises(BuildError, match="closure"):
        builder_with(bad, inner).to_bytes()
    good = Function("main", 0, 1, [Instruction.closure(0, "inner"), Instruction.return_reg(0)])
    assert builder_with(good, inner).to_bytes()
    wide = Function("inner", 0, 1, [Instruction.get_upval(0, 0), Instruction.return_reg(0)],
                    upvalues=[("reg", 5)])
    with pytest.raises(BuildError, match="register 5"):
        builder_with(good, wide).to_bytes()


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../b", "a\\b", ""])
def test_bad_file_names(path):
    with pytest.raises(BuildError):
        IonPackBuilder("x", "1").add_resource(path, b"")


def test_duplicate_function_in_class():
    with pytest.raises(EncodeError, match="twice"):
        builder_with(hello(), hello()).to_bytes()

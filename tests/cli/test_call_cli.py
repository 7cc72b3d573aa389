"""arcvm call's usage errors: each is refused with a message that names the
problem and status 125 before any VM boots, so these need no guest and no
KVM (a successful call boots Linux: tests/linux/test_call.py)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
ARCVM = BUILD / "arcvm"
sys.path.insert(0, str(ROOT / "python"))
from ionvm import Function, Instruction as I, IonPackBuilder  # noqa: E402


def call(*args):
    return subprocess.run([ARCVM, "call", *map(str, args)], capture_output=True, timeout=30)


@pytest.fixture
def pack(tmp_path):
    b = IonPackBuilder("echo", "1.0.0")
    b.add_class("Main", Function(name="main", arity=1, extra_regs=0,
                                 instructions=[I.return_reg(0)]))
    b.main_class("Main")
    b.entry_point("main")
    path = tmp_path / "echo.ionpack"
    b.build(path, for_call=True)
    return path


@pytest.mark.parametrize("literal,msg", [
    ("[1,", "at offset 3: expected a value, found the end"),
    ('"abc', "unterminated string"),
    ("1+2", "a complex number ends with 'i'"),
    ("{1 2}", "expected ',' or '}'"),
    ("'\\q'", "unknown escape \\q"),
    ("@", "unexpected '@'"),
    ("1 2", "unexpected text after the value"),
])
def test_bad_arg_is_a_usage_error(pack, literal, msg):
    r = call(pack, "--arg", literal, "--kernel", "/nonexistent")
    assert r.returncode == 125, r
    err = r.stderr.decode()
    assert f"bad --arg '{literal}'" in err and msg in err, err
    assert "nonexistent" not in err          # refused before the VM was considered


def test_missing_pack(tmp_path):
    r = call(tmp_path / "nope.ionpack")
    assert r.returncode == 125, r
    assert b"cannot read" in r.stderr and b"No such file or directory" in r.stderr, r


@pytest.mark.parametrize("damage,msg", [
    (lambda b: b[:len(b) // 2], b"not a valid zip archive"),
    (lambda b: os.urandom(200), b"not a valid zip archive"),
])
def test_corrupt_pack(pack, damage, msg):
    pack.write_bytes(damage(pack.read_bytes()))
    r = call(pack)
    assert r.returncode == 125, r
    assert b"cannot load" in r.stderr and msg in r.stderr, r


def test_pack_with_a_broken_class(tmp_path):
    import zipfile
    path = tmp_path / "bad.ionpack"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/MANIFEST.ion", "manifest-version: 1\nname: x\nversion: 1\n"
                   "main-class: Main\nentry-point: main\nformat-version: 1.0\n")
        z.writestr("classes/Main.ionc", b"IONC" + bytes(40))
    r = call(path)
    assert r.returncode == 125, r
    assert b"classes/Main.ionc" in r.stderr, r


@pytest.mark.parametrize("args,msg", [
    ((), b"no pack given"),
    (("a.ionpack", "b"), b"unexpected 'b' after the pack"),
    (("--tty", "a.ionpack"), b"unrecognized option '--tty'"),
    (("--env", "A=1", "a.ionpack"), b"unrecognized option '--env'"),
    (("--timeout", "0", "a.ionpack"), b"bad --timeout '0'"),
])
def test_bad_command_lines(args, msg):
    r = call(*args)
    assert r.returncode == 125, r
    assert msg in r.stderr, r


def test_help():
    r = call("--help")
    assert r.returncode == 0
    assert b"usage: arcvm call" in r.stdout and b"--arg VALUE" in r.stdout

"""The example programs of docs/api.md: each one builds (make), runs on this
host's /dev/kvm and prints exactly the output the document shows for it, so
the guide cannot drift from the library."""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
DOC = ROOT / "docs" / "api.md"
TIMEOUT = 30


@pytest.fixture(autouse=True)
def needs_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("no usable /dev/kvm on this host")


def documented_output(program):
    """The ```text block that follows '<!-- output: PROGRAM -->' in docs/api.md."""
    text = DOC.read_text()
    m = re.search(r"<!-- output: " + re.escape(program) + r" -->\s*```text\n(.*?)```", text,
                  re.S)
    assert m, f"docs/api.md shows no output for {program}"
    return m.group(1)


def test_hello_prints_what_the_guide_says():
    r = subprocess.run([BUILD / "examples" / "hello"], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert r.stderr == b""
    assert r.stdout.decode() == documented_output("examples/hello")


def test_guide_quotes_hello_verbatim():
    """The code the guide quotes from examples/hello.c is in the file as quoted."""
    section = DOC.read_text().split("## Example: examples/hello.c", 1)[1]
    quoted = re.search(r"```c\n(.*?)```", section, re.S).group(1)
    assert quoted in (ROOT / "examples" / "hello.c").read_text()


def test_guide_names_every_public_function():
    """Every function arcvm.h declares has a section in docs/api.md."""
    header = (ROOT / "include" / "arcvm.h").read_text()
    declared = set(re.findall(r"^\w[\w \*]*?\b(arcvm_\w+)\(", header, re.M))
    assert len(declared) > 30
    doc = DOC.read_text()
    missing = sorted(f for f in declared if f"`{f}`" not in doc and f"{f}(" not in doc)
    assert not missing, f"docs/api.md does not document {missing}"

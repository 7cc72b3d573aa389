"""Damaged classes must give ionvm a clean load error (exit 2) or, when the
damage happens to leave a valid program, a normal run: never a crash.

The checksum and payload length are recomputed after damaging the payload,
so the bytes reach the parser and the verifier instead of being stopped by
the CRC check."""

import random
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest

from conftest import PYTHON_DIR

sys.path.insert(0, str(PYTHON_DIR.parent / "bench" / "ion"))

import programs  # noqa: E402
from ionvm import IonPackBuilder  # noqa: E402
from test_tools import kitchen_sink  # noqa: E402


def reseal(payload):
    return b"IONC" + struct.pack("<HHIII", 1, 0, 0, len(payload), zlib.crc32(payload)) + payload


def write_pack(path, manifest, ionc):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/MANIFEST.ion", manifest)
        z.writestr("classes/Main.ionc", ionc)


def base(fns):
    b = IonPackBuilder("hostile", "1")
    b.add_class("Main", fns)
    b.main_class("Main").entry_point("main")
    return b.manifest(), b.class_bytes()["Main"][20:]


def run(ionvm, path):
    try:
        proc = subprocess.run([str(ionvm), str(path)], capture_output=True, timeout=3)
    except subprocess.TimeoutExpired:
        return None          # a damaged jump can make a valid endless loop
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    return proc


@pytest.mark.parametrize("program", ["kitchen_sink", "pingpong", "ring"])
def test_every_truncation_is_a_load_error(program, ionvm, tmp_path):
    fns = kitchen_sink() if program == "kitchen_sink" else programs.PROGRAMS[program](10)
    manifest, payload = base(fns)
    path = tmp_path / "t.ionpack"
    for cut in range(0, len(payload), max(1, len(payload) // 60)):
        write_pack(path, manifest, reseal(payload[:cut]))
        proc = run(ionvm, path)
        assert proc is not None and proc.returncode == 2, (cut, proc)
        assert "Main" in proc.stderr, (cut, proc.stderr)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_classes_never_crash_the_vm(seed, ionvm, tmp_path):
    rnd = random.Random(seed)
    fns = kitchen_sink() if seed % 2 else programs.PROGRAMS["pingpong"](10)
    manifest, payload = base(fns)
    path = tmp_path / "m.ionpack"
    for i in range(40):
        data = bytearray(payload)
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randrange(len(data))
            data[pos] = rnd.choice([0, 1, 0x7F, 0x80, 0xFF, rnd.randrange(256)])
        write_pack(path, manifest, reseal(bytes(data)))
        proc = run(ionvm, path)
        if proc is None:
            continue
        assert proc.returncode in (0, 1, 2), (seed, i, proc.returncode, proc.stderr[-300:])

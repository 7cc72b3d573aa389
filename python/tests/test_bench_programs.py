"""The IonVM benchmark programs (bench/ion/programs.py) at small sizes: each
must print {name, result} with the result the runner expects."""

import subprocess
import sys

import pytest

from conftest import PYTHON_DIR

sys.path.insert(0, str(PYTHON_DIR.parent / "bench" / "ion"))

import programs  # noqa: E402
import run as bench_run  # noqa: E402

SIZES = {"fib": 15, "fma": 1000, "proto": 1000, "strbuild": 100, "spawn": 200,
         "ring": 2500, "pingpong": 100, "timeout": 50, "idle": 100}


@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_bench_program(name, ionvm, tmp_path):
    assert set(SIZES) == set(programs.PROGRAMS)
    n = SIZES[name]
    pack = tmp_path / (name + ".ionpack")
    pack.write_bytes(programs.pack(name, n))
    proc = subprocess.run([str(ionvm), str(pack)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = bench_run.parse_result("ionvm", name, proc.stdout)
    assert got is not None, proc.stdout
    assert float(got) == float(bench_run.expected(name, n))


def test_expected_values():
    assert bench_run.expected("fib", 35) == 9227465
    assert bench_run.expected("fma", 100_000_000) == 2499999975000000
    assert bench_run.expected("pingpong", 1_000_000) == 1_000_000

"""Shared fixtures: where the VM binary and the C sources are, and a helper
that builds a pack and runs it.

IONVM names the ionvm binary (default: ../build/ion/ionvm relative to
python/). ION_ROOT names the source tree holding ion/opcodes.h (default: the
repository this package lives in). A missing binary fails the end-to-end
tests with that message instead of skipping them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PYTHON_DIR))

from ionvm import Function, IonPackBuilder  # noqa: E402


def ionvm_path():
    return Path(os.environ.get("IONVM", PYTHON_DIR.parent / "build" / "ion" / "ionvm"))


def ion_root():
    return Path(os.environ.get("ION_ROOT", PYTHON_DIR.parent))


class Run:
    """Result of one ionvm run."""

    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def lines(self):
        return self.stdout.splitlines()

    def __repr__(self):
        return "Run(rc=%d, stdout=%r, stderr=%r)" % (self.returncode, self.stdout, self.stderr)


@pytest.fixture
def ionvm():
    path = ionvm_path()
    if not os.access(path, os.X_OK):
        pytest.fail("ionvm binary not found at %s: build it (make ion) or set IONVM" % path)
    return path


@pytest.fixture
def run_pack(ionvm, tmp_path):
    """run_pack(functions_or_builder, *args, classes=None, timeout=60) -> Run.

    functions: a list of Function for class Main whose first is the entry
    point, or a ready IonPackBuilder."""
    counter = [0]

    def run(program, *args, extra_classes=None, vm_args=(), timeout=60):
        if isinstance(program, IonPackBuilder):
            builder = program
        else:
            if isinstance(program, Function):
                program = [program]
            builder = IonPackBuilder("test", "0.1.0")
            builder.add_class("Main", program)
            for name, fns in (extra_classes or {}).items():
                builder.add_class(name, fns)
            builder.main_class("Main")
            builder.entry_point(program[0].name)
        counter[0] += 1
        pack = tmp_path / ("t%d.ionpack" % counter[0])
        builder.build(str(pack))
        proc = subprocess.run([str(ionvm), *vm_args, str(pack), *args], capture_output=True,
                              text=True, timeout=timeout)
        return Run(proc)

    return run

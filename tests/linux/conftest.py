"""Fixtures for the Linux tier: boot Debian's unmodified kernel with arcvm.

These tests need a KVM that boots unmodified Linux. On a PVM host `make
test-linux` runs them inside the test host (tests/testhost/run), where the
build tree is visible read-only, so the tests write only to tmp_path.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
GUEST = BUILD / "guest"
BOOT_TIMEOUT = int(os.environ.get("ARCVM_TEST_BOOT_TIMEOUT", "300"))


def kvm_boots_linux():
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm on this host"
    if os.path.exists("/sys/module/kvm_pvm"):
        return "/dev/kvm is PVM, which cannot boot unmodified Linux (use the test host)"
    return None


@pytest.fixture(scope="session")
def arcvm():
    path = BUILD / "arcvm"
    assert path.exists(), f"{path} is not built (make all)"
    return path


@pytest.fixture(scope="session")
def guest():
    for name in ("vmlinux", "vmlinuz", "initrd.cpio.gz"):
        assert (GUEST / name).exists(), f"{GUEST / name} is missing (make guest)"
    return GUEST


@pytest.fixture(scope="session")
def needs_kvm():
    reason = kvm_boots_linux()
    if reason:
        pytest.skip(reason)


class Run:
    def __init__(self, proc):
        self.status = proc.returncode
        self.out = proc.stdout.decode(errors="replace")
        self.err = proc.stderr.decode(errors="replace")

    def __repr__(self):
        return f"<status {self.status}\n--- stdout\n{self.out}\n--- stderr\n{self.err}>"


@pytest.fixture
def run_arcvm(arcvm):
    """Runs `arcvm ARGS...` with a bounded wait; a hang fails the test with
    the output seen so far instead of blocking the suite."""
    def run(*args, stdin=b"", timeout=BOOT_TIMEOUT):
        try:
            proc = subprocess.run([str(arcvm), *map(str, args)], input=stdin,
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"arcvm {' '.join(map(str, args))} did not finish in {timeout} s;"
                        f" output so far:\n{(e.stdout or b'').decode(errors='replace')}"
                        f"\n{(e.stderr or b'').decode(errors='replace')}")
        return Run(proc)
    return run

"""Use case: a clean, reproducible build. arcvm's own sources, shared
read-only into a Debian VM (an image `arcvm image debian` built with only
gcc, make and the -dev packages arcvm's build links; tests/linux/image.mk),
are built there; the binary copied out runs on the host and boots a VM of
its own.

Slow, never skipped where the Linux tier runs; why each use case has a file of
its own is with USECASE_TIMEOUT in conftest.py.
"""
import os
import subprocess

import pytest

from conftest import GUEST, ROOT, USECASE_TIMEOUT, WORK_CPUS, debian_image

pytestmark = [pytest.mark.usefixtures("needs_kvm"), pytest.mark.slow]


def test_clean_build_of_arcvm_in_a_debian_vm(run_arcvm, tmp_path):
    built = tmp_path / "arcvm-built-in-vm"
    r = run_arcvm("exec", "--image", debian_image("debian-build.ext4"),
                  "--cpus", WORK_CPUS, "--mem", "1G", "--share", f"{ROOT}:/src:ro",
                  "--copy-out", f"/tmp/b/arcvm:{built}", "--", "sh", "-c",
                  "make -C /src BUILD=/tmp/b -j2 arcvm >/tmp/make.log 2>&1 "
                  "|| { tail -30 /tmp/make.log; exit 1; }; echo BUILT",
                  timeout=USECASE_TIMEOUT)
    assert r.status == 0, str(r)
    assert r.out.endswith("BUILT\n"), str(r)
    # --copy-out does not carry the guest file's mode (docs/cli.md).
    os.chmod(built, 0o755)

    # The binary made in the VM runs here: its usage, then a VM of its own.
    h = subprocess.run([str(built), "exec", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert h.returncode == 0 and "usage: arcvm exec" in h.stdout, str(h)
    e = subprocess.run([str(built), "exec", "--kernel", str(GUEST / "vmlinux"),
                        "--initrd", str(GUEST / "initrd.cpio.gz"), "--", "sh", "-c",
                        "echo booted-by-$((6*7))"],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, ARCVM_GUEST_DIR=str(GUEST)))
    assert e.returncode == 0 and e.stdout == "booted-by-42\n", str(e)

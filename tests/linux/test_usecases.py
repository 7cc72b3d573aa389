"""The two use cases of a real distribution in a micro-VM, end to end with
Debian's unmodified kernel and images built by `arcvm image debian` (make
builds them before this tier runs; tests/linux/image.mk):

- clean build: arcvm's own sources, shared read-only into a Debian VM that
  has only gcc, make and the -dev packages the build links, are built
  there; the binary copied out runs on the host and boots a VM itself;
- crash a driver: a kernel module built in the VM against the guest
  kernel's linux-headers panics when loaded; `arcvm exec` reports the panic
  line with status 123, the host is unaffected and the next VM boots.

Both are slow (minutes in the test host, where everything runs about 10x
slower than on hardware), never skipped where the Linux tier runs.
"""
import os
import subprocess

import pytest

from conftest import BUILD, GUEST, ROOT

pytestmark = [pytest.mark.usefixtures("needs_kvm"), pytest.mark.slow]
IMAGES = BUILD / "tests" / "linux"
SLOW = 1800            # s: a bound on one slow exec, not an expectation
EXEC_PANIC_STATUS = 123


def image(name):
    path = IMAGES / name
    assert path.exists(), f"{path} is missing (make test-linux builds it)"
    return path


def test_clean_build_of_arcvm_in_a_debian_vm(run_arcvm, tmp_path):
    built = tmp_path / "arcvm-built-in-vm"
    r = run_arcvm("exec", "--image", image("debian-build.ext4"), "--cpus", "2", "--mem", "1G",
                  "--share", f"{ROOT}:/src:ro", "--copy-out", f"/tmp/b/arcvm:{built}",
                  "--", "sh", "-c",
                  "make -C /src BUILD=/tmp/b -j2 arcvm >/tmp/make.log 2>&1 "
                  "|| { tail -30 /tmp/make.log; exit 1; }; echo BUILT",
                  timeout=SLOW)
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


PANIC_MODULE = r"""
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

/* Loading this module is the crash: the test expects the panic line. */
static int __init arcvm_crash_init(void)
{
	panic("arcvm-test: driver crashed on purpose");
	return 0;
}
module_init(arcvm_crash_init);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("panics when loaded (arcvm's crash-a-driver test)");
"""


def test_crash_a_driver_panics_the_guest_only(run_arcvm, tmp_path):
    src = tmp_path / "mod"
    src.mkdir()
    (src / "crash.c").write_text(PANIC_MODULE)
    (src / "Makefile").write_text("obj-m := crash.o\n")
    kmod = image("debian-kmod.ext4")
    r = run_arcvm("exec", "--image", kmod, "--cpus", "2", "--mem", "1G",
                  "--share", f"{src}:/mnt/mod:ro", "--", "sh", "-c",
                  "cp -r /mnt/mod /tmp/mod && "
                  "make -C /lib/modules/$(uname -r)/build M=/tmp/mod modules "
                  ">/tmp/kbuild.log 2>&1 || { tail -30 /tmp/kbuild.log; exit 1; }; "
                  "modinfo -F vermagic /tmp/mod/crash.ko; uname -r; echo LOADING; "
                  "insmod /tmp/mod/crash.ko; echo STILL-ALIVE",
                  timeout=SLOW)
    assert r.status == EXEC_PANIC_STATUS, str(r)
    assert "LOADING" in r.out and "STILL-ALIVE" not in r.out, str(r)
    vermagic, release = r.out.splitlines()[:2]
    assert vermagic.split()[0] == release, r        # built for the running kernel
    assert "the guest kernel panicked before the command finished" in r.err, str(r)
    assert "Kernel panic - not syncing: arcvm-test: driver crashed on purpose" in r.err, str(r)

    # The host is unaffected and the next VM, on the same image, boots.
    assert os.path.exists("/dev/kvm")
    again = run_arcvm("exec", "--image", kmod, "--", "sh", "-c",
                      "lsmod | grep -c '^crash ' ; echo fresh-$((2+3))")
    assert again.status == 0, str(again)
    assert again.out == "0\nfresh-5\n", str(again)

"""Use case: a machine a kernel developer can crash. A kernel module built in
a Debian VM (an image `arcvm image debian` built with gcc, make and the guest
kernel's linux-headers; tests/linux/image.mk) against the running kernel
panics when loaded; `arcvm exec` reports the panic line with status 123, the
host is unaffected and the next VM on the same image boots.

Slow, never skipped where the Linux tier runs; why each use case has a file of
its own is with USECASE_TIMEOUT in conftest.py.
"""
import os

import pytest

from conftest import USECASE_TIMEOUT, WORK_CPUS, debian_image

pytestmark = [pytest.mark.usefixtures("needs_kvm"), pytest.mark.slow]
EXEC_PANIC_STATUS = 123


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
    kmod = debian_image("debian-kmod.ext4")
    r = run_arcvm("exec", "--image", kmod, "--cpus", WORK_CPUS, "--mem", "1G",
                  "--share", f"{src}:/mnt/mod:ro", "--", "sh", "-c",
                  "cp -r /mnt/mod /tmp/mod && "
                  "make -C /lib/modules/$(uname -r)/build M=/tmp/mod modules "
                  ">/tmp/kbuild.log 2>&1 || { tail -30 /tmp/kbuild.log; exit 1; }; "
                  "modinfo -F vermagic /tmp/mod/crash.ko; uname -r; echo LOADING; "
                  "insmod /tmp/mod/crash.ko; echo STILL-ALIVE",
                  timeout=USECASE_TIMEOUT)
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

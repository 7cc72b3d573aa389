"""The virtio console (--console virtio: the guest's console on hvc0) and the
virtio entropy device (--rng), with Debian's unmodified kernel."""
import base64
import re


def run64(script):
    return "arcvm.run64=" + base64.b64encode(script.encode()).decode()


def test_run_output_on_hvc0_and_rng(needs_kvm, run_arcvm):
    """A command's output arrives through hvc0 (its stdio is /dev/hvc0); the
    virtio-rng device is the guest's hardware RNG and gives bytes."""
    r = run_arcvm("run", "--console", "virtio", "--rng", "--append", run64(
        "echo OUT=$(readlink /proc/$$/fd/1) IN=$(readlink /proc/$$/fd/0)\n"
        "echo RNG=$(cat /sys/class/misc/hw_random/rng_current)\n"
        "echo BYTES=$(head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \\n')\n"))
    assert r.status == 0, str(r)
    assert "arcvm-guest: kernel" in r.out and "ARCVM-RUN-EXIT=0" in r.out, str(r)
    assert "OUT=/dev/hvc0 IN=/dev/hvc0" in r.out, str(r)
    assert re.search(r"RNG=virtio_rng\.\d+", r.out), str(r)
    m = re.search(r"BYTES=([0-9a-f]*)", r.out)
    assert m and len(m.group(1)) == 128, str(r)
    assert m.group(1) != "0" * 128, str(r)


def test_shell_on_hvc0_takes_piped_input(needs_kvm, live_vms):
    """Input written to arcvm's stdin once the guest is up reaches a shell
    on hvc0, which answers there."""
    vm = live_vms("run", "--console", "virtio", "--append", "arcvm.shell=1")
    vm.wait_for("ARCVM-INIT-READY")
    vm.send("echo TTY=$(tty)\necho piped-$((6*7))\nexit\n")
    assert vm.wait() == 0, str(vm)
    assert "TTY=/dev/hvc0" in vm.out, str(vm)
    assert "piped-42" in vm.out, str(vm)


def test_bad_console_kind_is_a_usage_error(run_arcvm):
    r = run_arcvm("run", "--console", "vga", timeout=30)
    assert r.status == 2, str(r)
    assert "--console" in r.err and "vga" in r.err, str(r)

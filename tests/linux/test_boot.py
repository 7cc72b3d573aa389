"""arcvm run with Debian's unmodified kernel: vCPUs, memory, the console,
how the guest ends, and bad input."""
import re

import pytest

BANNER = re.compile(r"arcvm-guest: kernel (\S+), (\d+) cpus, MemTotal (\d+) kB")


def banner(run):
    m = BANNER.search(run.out)
    assert m, f"no guest banner in the output: {run!r}"
    return m.group(1), int(m.group(2)), int(m.group(3))


@pytest.mark.parametrize("cpus", [1, 2])
def test_vcpus_and_memory(needs_kvm, run_arcvm, guest, cpus):
    r = run_arcvm("run", "--cpus", cpus, "--mem", "256M")
    assert r.status == 0, str(r)
    release, nproc, memtotal = banner(r)
    assert release == (guest / "kernel.release").read_text().strip()
    assert nproc == cpus
    # MemTotal is RAM less what the kernel reserved for itself.
    assert 200 * 1024 < memtotal <= 256 * 1024, str(r)


def test_bzimage_boots_too(needs_kvm, run_arcvm, guest):
    r = run_arcvm("run", "--kernel", guest / "vmlinuz", "--initrd", guest / "initrd.cpio.gz",
                  "--mem", "256M")
    assert r.status == 0, str(r)
    banner(r)


def test_memory_matches_request(needs_kvm, run_arcvm):
    r = run_arcvm("run", "--mem", "640M")
    assert r.status == 0, str(r)
    memtotal = banner(r)[2]
    assert 560 * 1024 < memtotal <= 640 * 1024, str(r)


def test_command_on_cmdline(needs_kvm, run_arcvm):
    r = run_arcvm("run", "--append", "arcvm.run=echo+$((6*7))+from+guest")
    assert r.status == 0, str(r)
    assert "42 from guest" in r.out
    assert "ARCVM-RUN-EXIT=0" in r.out


def test_command_piped_into_serial_console(needs_kvm, run_arcvm):
    r = run_arcvm("run", "--append", "arcvm.shell=1",
                  stdin=b"echo piped-$((7*6))\ncat /proc/cmdline\nexit\n")
    assert r.status == 0, str(r)
    assert "piped-42" in r.out
    assert "arcvm.shell=1" in r.out


@pytest.mark.parametrize("how,status", [("poweroff", 0), ("reboot", 3), ("halt", 4),
                                        ("panic", 5)])
def test_exit_statuses(needs_kvm, run_arcvm, how, status):
    r = run_arcvm("run", "--append", f"arcvm.exit={how}")
    assert r.status == status, str(r)
    banner(r)
    if how == "panic":
        assert "guest kernel panic" in r.err and "Kernel panic" in r.err, str(r)


def test_missing_kernel(run_arcvm, tmp_path):
    r = run_arcvm("run", "--kernel", tmp_path / "nope", timeout=30)
    assert r.status == 1, str(r)
    assert "does not exist" in r.err and str(tmp_path / "nope") in r.err


def test_truncated_kernel(run_arcvm, guest, tmp_path):
    bad = tmp_path / "vmlinuz.truncated"
    bad.write_bytes((guest / "vmlinuz").read_bytes()[:100000])
    r = run_arcvm("run", "--kernel", bad, "--allow-pvm", timeout=30)
    assert r.status == 1, str(r)
    assert str(bad) in r.err and "trunc" in r.err.lower(), str(r)


def test_garbage_kernel(run_arcvm, tmp_path):
    bad = tmp_path / "garbage"
    bad.write_bytes(b"this is not a kernel\n" * 1000)
    r = run_arcvm("run", "--kernel", bad, "--allow-pvm", timeout=30)
    assert r.status == 1, str(r)
    assert str(bad) in r.err, str(r)


@pytest.mark.parametrize("args,needle", [
    (["--mem", "0"], "larger than 0"),
    (["--mem", "4XB"], "unknown unit"),
    (["--mem", "-1G"], "expected a number"),
    (["--cpus", "0"], "from 1 to"),
    (["--cpus", "two"], "from 1 to"),
])
def test_bad_arguments_are_usage_errors(run_arcvm, args, needle):
    r = run_arcvm("run", *args, timeout=30)
    assert r.status == 2, str(r)
    assert needle in r.err, str(r)


def test_memory_larger_than_host(run_arcvm):
    r = run_arcvm("run", "--mem", "64T", "--allow-pvm", timeout=30)
    assert r.status == 1, str(r)
    assert "more than this host has" in r.err, str(r)

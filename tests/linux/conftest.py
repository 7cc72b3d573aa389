"""Fixtures for the Linux tier: boot Debian's unmodified kernel with arcvm.

These tests need a KVM that boots unmodified Linux. On a PVM host `make
test-linux` runs them inside the test host (tests/testhost/run), where the
build tree is visible read-only, so the tests write only to tmp_path.
"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
GUEST = BUILD / "guest"
BOOT_TIMEOUT = int(os.environ.get("ARCVM_TEST_BOOT_TIMEOUT", "300"))


def pytest_runtest_logreport(report):
    """In the test host a failed test runs once more (scripts/test-linux.sh);
    show the first failure in full, so a rerun never hides what went wrong."""
    if report.outcome == "rerun":
        text = report.longreprtext
        sys.stderr.write(f"\n=== {report.nodeid} failed and runs once more; the failure "
                         f"(last 6000 characters):\n{text[-6000:]}\n=== end of the first failure\n")


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


# vCPUs for a guest that works hard for minutes (the use cases). In the test
# host it is 1: two busy L2 vCPUs are what QEMU's TCG emulation of nested SVM
# handles worst (an L2 vCPU triple-faulted mid-build, and L1's own kernel
# panicked twice in CI, both during a two-vCPU build; see docs/testhost.md).
# On hardware KVM, 2.
WORK_CPUS = "1" if os.environ.get("TESTHOST") else "2"
# The use cases (test_usecase_*.py) take minutes in the test host, where
# everything runs about 10x slower than on hardware. Each has a file of its
# own, so that there each gets a test host of its own (scripts/test-linux.sh)
# with the whole of its 1800 s. One use-case exec is bounded below that (in
# s; a bound, not an expectation), so a hang fails the test with arcvm's
# output instead of timing out the test host.
USECASE_TIMEOUT = 1500


def debian_image(name):
    """An image make built for the Linux tier (tests/linux/image.mk)."""
    path = BUILD / "tests" / "linux" / name
    assert path.exists(), f"{path} is missing (make test-linux builds it)"
    return path


@pytest.fixture(scope="session")
def needs_kvm():
    reason = kvm_boots_linux()
    if reason:
        pytest.skip(reason)


class Run:
    """What `arcvm` did. As an assert's message give str(run): pytest cuts
    a message that is not a string to 240 characters, and the console or the
    build log that explains a failure is in the part it would cut."""
    def __init__(self, proc):
        self.status = proc.returncode
        self.out = proc.stdout.decode(errors="replace")
        self.err = proc.stderr.decode(errors="replace")

    def __repr__(self):
        return f"<status {self.status}\n--- stdout\n{self.out}\n--- stderr\n{self.err}>"


def _read(path):
    try:
        return pathlib.Path(path).read_text(errors="replace").strip()
    except OSError as e:
        return f"({e.strerror})"


def _kvm_exits(tids, seconds=2):
    """The KVM exits of the threads TIDS for SECONDS, from tracefs (mounted
    for the purpose if it is not): their count and the last of them."""
    trace = pathlib.Path("/sys/kernel/tracing")
    mounted = None
    if not (trace / "set_event").exists():
        mounted = pathlib.Path(tempfile.mkdtemp(prefix="arcvm-tracefs-"))
        r = subprocess.run(["mount", "-t", "tracefs", "nodev", str(mounted)],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            os.rmdir(mounted)
            return [f"KVM exits: cannot mount tracefs: {r.stderr.strip()}"]
        trace = mounted
    try:
        (trace / "set_event_pid").write_text(" ".join(tids))
        (trace / "trace").write_text("")
        (trace / "set_event").write_text("kvm:kvm_exit kvm:kvm_userspace_exit\n")
        time.sleep(seconds)
        (trace / "set_event").write_text("")
        events = [line for line in (trace / "trace").read_text().splitlines()
                  if not line.startswith("#")]
        (trace / "set_event_pid").write_text("")
        return ([f"KVM exits in {seconds} s: {len(events)}; the last of them:"]
                + ["    " + line.strip() for line in events[-12:]])
    except OSError as e:
        return [f"KVM exits: tracefs: {e}"]
    finally:
        if mounted:
            subprocess.run(["umount", str(mounted)], timeout=30)
            os.rmdir(mounted)


def hang_report(pid):
    """What a hung arcvm is doing, for a failure message: each thread's
    state and kernel stack, then the VM's KVM exits for two seconds. These
    tell a guest that halted and waits for an interrupt (no exits, a vCPU
    thread asleep in KVM) from one that spins or faults in a loop (exits,
    with the guest's rip), and both from arcvm blocked on itself."""
    lines = [f"--- what arcvm (pid {pid}) was doing"]
    tasks = sorted(pathlib.Path(f"/proc/{pid}/task").glob("*"), key=lambda t: int(t.name))
    for task in tasks:
        stat = _read(task / "stat")
        state = stat.rpartition(")")[2].split()[:1] or ["?"]
        lines.append(f"thread {task.name} {_read(task / 'comm')}: state {state[0]},"
                     f" wchan {_read(task / 'wchan')}")
        lines += ["    " + line for line in _read(task / "stack").splitlines()[:10]]
    if tasks and os.geteuid() == 0:
        lines += _kvm_exits([t.name for t in tasks])
    return "\n".join(lines)


@pytest.fixture
def run_arcvm(arcvm):
    """Runs `arcvm ARGS...` with a bounded wait; a hang fails the test with
    the output seen so far and what arcvm was doing instead of blocking the
    suite."""
    def run(*args, stdin=b"", timeout=BOOT_TIMEOUT):
        proc = subprocess.Popen([str(arcvm), *map(str, args)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            report = hang_report(proc.pid)
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"arcvm {' '.join(map(str, args))} did not finish in {timeout} s;"
                        f" output so far:\n{out.decode(errors='replace')}"
                        f"\n{err.decode(errors='replace')}\n{report}")
        return Run(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return run


# Disk images and guests that keep running (tests/linux/test_disk.py,
# test_console.py).
import shutil  # noqa: E402
import threading  # noqa: E402


@pytest.fixture(scope="session")
def rootfs_image():
    """The busybox ext4 root image `make guest` builds. Tests boot a copy
    (root_copy), never this file: the guest writes to its root."""
    path = GUEST / "rootfs.ext4"
    assert path.exists(), f"{path} is missing (make guest)"
    return path


@pytest.fixture
def root_copy(rootfs_image, tmp_path):
    dst = tmp_path / "root.ext4"
    shutil.copyfile(rootfs_image, dst)
    return dst


class LiveVM:
    """arcvm run in the background with stdin kept open: the test can write
    to the guest's console, wait (bounded) for a line, and stop it."""

    def __init__(self, arcvm, *args):
        self.cmd = [str(arcvm), *map(str, args)]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = {"out": bytearray(), "err": bytearray()}
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(f, k), daemon=True)
                        for f, k in ((self.proc.stdout, "out"), (self.proc.stderr, "err"))]
        for t in self.readers:
            t.start()

    def _read(self, f, key):
        while chunk := os.read(f.fileno(), 65536):
            with self.cond:
                self.buf[key] += chunk
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def out(self):
        with self.cond:
            return self.buf["out"].decode(errors="replace")

    @property
    def err(self):
        with self.cond:
            return self.buf["err"].decode(errors="replace")

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_for(self, needle, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while needle.encode() not in self.buf["out"]:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self.cond.wait(min(left, 1.0))
            if needle.encode() in self.buf["out"]:
                return
        report = hang_report(self.proc.pid) if self.proc.poll() is None else ""
        self.stop()
        pytest.fail(f"no {needle!r} from {' '.join(self.cmd)} within {timeout} s: {self!r}"
                    f"\n{report}")

    def wait(self, timeout=BOOT_TIMEOUT):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            report = hang_report(self.proc.pid)
            self.stop()
            pytest.fail(f"{' '.join(self.cmd)} did not end within {timeout} s: {self!r}"
                        f"\n{report}")
        for t in self.readers:
            t.join(30)
        return self.proc.returncode

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def __repr__(self):
        return (f"<status {self.proc.returncode}\n--- stdout\n{self.out}\n"
                f"--- stderr\n{self.err}>")


@pytest.fixture
def live_vms(arcvm):
    """Starts LiveVMs; whatever a failed test leaves running is killed."""
    vms = []

    def start(*args):
        vms.append(LiveVM(arcvm, *args))
        return vms[-1]
    yield start
    for vm in vms:
        vm.stop()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes minutes in the test host (the use cases, 1 GiB of shared memory);"
        " part of make test, never skipped for it")
    config.addinivalue_line(
        "markers", "huge: a GiB from the host into the guest, about 6 minutes in the test host;"
        " make test-huge (make test deselects these, and says so in its pytest summary)")
# A network namespace of the test's own, for TAP devices (test_net.py,
# test_api_firecracker.py): the host's interfaces are never touched.
import uuid  # noqa: E402


def have_netns():
    if os.geteuid() != 0:
        return "needs root for a network namespace and a TAP device"
    if not shutil.which("ip"):
        return "no iproute2 'ip' on this host"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (tun module)"
    return None


@pytest.fixture
def netns():
    reason = have_netns()
    if reason:
        pytest.skip(reason)
    name = "arcvmt" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    yield name
    subprocess.run(["ip", "netns", "del", name], timeout=30)


def ns(name, *cmd, timeout=60):
    return subprocess.run(["ip", "netns", "exec", name, *cmd], capture_output=True,
                          timeout=timeout, text=True)

"""arcvm run's command-line behaviour, on this host's /dev/kvm with tiny
firmware images (tests/cli/fw.S): exit statuses, the console in both
directions, the escape key in a real terminal, signals, bad arguments."""
import os
import pathlib
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

BUILD = pathlib.Path(os.environ.get("BUILD", pathlib.Path(__file__).resolve().parents[2] / "build"))
ARCVM = BUILD / "arcvm"
TIMEOUT = 30


def fw(name):
    return BUILD / "tests" / "cli" / f"fw-{name}.bin"


@pytest.fixture(autouse=True)
def needs_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("no usable /dev/kvm on this host")


def run(*args, stdin=b""):
    return subprocess.run([ARCVM, "run", *map(str, args)], input=stdin, capture_output=True,
                          timeout=TIMEOUT)


def test_poweroff_is_status_0_and_console_reaches_stdout():
    r = run("--bios", fw("HELLO"))
    assert r.returncode == 0, r
    assert r.stdout == b"hello from firmware\n"


def test_piped_input_reaches_the_guest_uart():
    r = run("--bios", fw("ECHO"), stdin=b"abc.")
    assert r.returncode == 0, r
    assert r.stdout == b"abc."


def test_file_on_stdin_reaches_the_guest(tmp_path):
    f = tmp_path / "in.txt"
    f.write_bytes(b"from a file.")
    with open(f, "rb") as stdin:
        r = subprocess.run([ARCVM, "run", "--bios", fw("ECHO")], stdin=stdin,
                           capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert r.stdout == b"from a file."


def test_reset_is_status_3():
    assert run("--bios", fw("RESET")).returncode == 3


def test_triple_fault_is_status_6():
    r = run("--bios", fw("TRIPLE"))
    assert r.returncode == 6, r
    assert b"triple-faulted" in r.stderr
    assert b"rip=0x" in r.stderr, "the registers at the fault are reported"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_vm(sig):
    p = subprocess.Popen([ARCVM, "run", "--bios", fw("SPIN")], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert p.poll() is None, "a spinning guest ended by itself"
    p.send_signal(sig)
    assert p.wait(timeout=TIMEOUT) == 128 + sig


def read_until_exit(fd, proc, deadline):
    out = b""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 1024)
            except OSError:
                break
    return out


def spawn_in_pty(image):
    """Starts arcvm on a new pty and waits until it has put it in raw mode."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([ARCVM, "run", "--bios", fw(image)], stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and termios.tcgetattr(slave)[3] & termios.ICANON:
        time.sleep(0.05)
    assert not termios.tcgetattr(slave)[3] & termios.ICANON, "terminal not in raw mode"
    return p, master, slave, before, deadline


def close_pty(p, master, slave):
    if p.poll() is None:
        p.kill()
    os.close(master)
    os.close(slave)


def test_escape_key_in_a_terminal_and_termios_restored():
    p, master, slave, before, deadline = spawn_in_pty("SPIN")
    try:
        os.write(master, b"\x01x")          # Ctrl-A x
        read_until_exit(master, p, deadline)
        assert p.wait(timeout=5) == 7
        assert termios.tcgetattr(slave) == before, "terminal settings not restored"
    finally:
        close_pty(p, master, slave)


def test_ctrl_a_ctrl_a_sends_one_ctrl_a():
    p, master, slave, _, deadline = spawn_in_pty("ECHO")
    try:
        os.write(master, b"a\x01\x01b.")
        out = read_until_exit(master, p, deadline)
        assert p.wait(timeout=5) == 0
        assert out == b"a\x01b.", out
    finally:
        close_pty(p, master, slave)


@pytest.mark.parametrize("args,needle", [
    (["--mem", "0"], "larger than 0"),
    (["--mem", "12Q"], "unknown unit"),
    (["--cpus", "65"], "from 1 to 64"),
    (["--console", "vga"], "expected serial or virtio"),
    (["--drive", "path="], "drive"),
    (["--drive", "path=x,cache=maybe"], "cache"),
    (["--frobnicate"], "usage"),
])
def test_usage_errors_are_status_2(args, needle):
    r = run(*args)
    assert r.returncode == 2, r
    assert needle in r.stderr.decode(), r


def test_missing_firmware_is_status_1(tmp_path):
    r = run("--bios", tmp_path / "none.bin")
    assert r.returncode == 1
    assert b"none.bin" in r.stderr

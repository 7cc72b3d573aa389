"""arcvm snapshot restore on this host's /dev/kvm, with the echo firmware
(tests/cli/fw.S): snapctl boots it, types on its console and snapshots it;
`arcvm snapshot restore DIR` in another process must carry on where it was
(the UART still listening), with arcvm run's console and exit statuses."""
import os
import pathlib
import signal
import subprocess
import time

import pytest

BUILD = pathlib.Path(os.environ.get("BUILD", pathlib.Path(__file__).resolve().parents[2] / "build"))
ARCVM = BUILD / "arcvm"
SNAPCTL = BUILD / "tests" / "snapshot" / "snapctl"
TIMEOUT = 30


def fw(name):
    return BUILD / "tests" / "cli" / f"fw-{name}.bin"


@pytest.fixture(autouse=True)
def needs_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("no usable /dev/kvm on this host")


def snapshot_echo(snap):
    """The echo firmware, having echoed "ab", snapshotted into snap."""
    r = subprocess.run([SNAPCTL, "--bios", fw("ECHO"), "--timeout", "20", "--send", "ab",
                        "--expect", "ab", "--snapshot", snap], capture_output=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert (snap / "state").exists() and (snap / "memory").exists()


def restore(*args, stdin=b""):
    return subprocess.run([ARCVM, "snapshot", "restore", *map(str, args)], input=stdin,
                          capture_output=True, timeout=TIMEOUT)


def test_restored_guest_carries_on_and_powers_off(tmp_path):
    snapshot_echo(tmp_path / "snap")
    r = restore(tmp_path / "snap", stdin=b"cd.")
    assert r.returncode == 0, r
    assert r.stdout == b"cd."


def test_state_and_memory_given_as_files(tmp_path):
    snap = tmp_path / "snap"
    snapshot_echo(snap)
    os.rename(snap / "memory", tmp_path / "elsewhere.mem")
    r = restore("--state", snap / "state", "--mem", tmp_path / "elsewhere.mem", stdin=b"x.")
    assert r.returncode == 0, r
    assert r.stdout == b"x."


def test_two_restores_of_one_snapshot_at_once(tmp_path):
    snapshot_echo(tmp_path / "snap")
    procs = [subprocess.Popen([ARCVM, "snapshot", "restore", tmp_path / "snap"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(text, timeout=TIMEOUT) for p, text in zip(procs, (b"one.", b"two."))]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0] for o in outs] == [b"one.", b"two."]


def test_signal_stops_a_restored_vm(tmp_path):
    snap = tmp_path / "snap"
    r = subprocess.run([SNAPCTL, "--bios", fw("SPIN"), "--snapshot", snap], capture_output=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r
    p = subprocess.Popen([ARCVM, "snapshot", "restore", snap], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert p.poll() is None, "a spinning guest ended by itself"
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=TIMEOUT)
    assert p.returncode == 128 + signal.SIGTERM


@pytest.mark.parametrize("args,status,needle", [
    ((), 2, b"usage"),
    (("create",), 2, b"REST API"),
    (("restore",), 2, b"snapshot folder"),
    (("restore", "/nonexistent-snapshot"), 1, b"does not exist"),
])
def test_bad_invocations(args, status, needle):
    r = subprocess.run([ARCVM, "snapshot", *args], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == status, r
    assert needle in r.stderr, r


def test_damaged_state_is_status_1_with_a_message(tmp_path):
    snap = tmp_path / "snap"
    snapshot_echo(snap)
    data = bytearray((snap / "state").read_bytes())
    data[100] ^= 0xff
    (snap / "state").write_bytes(bytes(data))
    r = restore(snap)
    assert r.returncode == 1, r
    assert b"checksum" in r.stderr, r

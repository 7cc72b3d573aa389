#!/usr/bin/python3
"""Restore against cold boot for Debian's kernel, run where KVM boots it (the
test host on PVM machines). Both are timed from the spawn of the arcvm
process to the guest's shell answering a command on the console:

- cold: `arcvm run ... arcvm.shell=1`; once ARCVM-INIT-READY is printed the
  command is typed (typed-ahead input is lost while init starts);
- restore: `arcvm snapshot restore DIR` of a snapshot snapctl took of the same
  guest sitting at its shell prompt (the console quiet for 500 ms, so the
  prompt is out); the command is typed at once.

Then `arcvm exec -- true` (boot, agent, command, power off) against `arcvm
exec --from-snapshot DIR -- true`, DIR a snapshot snapctl took of the same
machine exec boots (512M, 1 vCPU, rng, vsock, its kernel command line) once
its agent accepted a vsock connection and the console was quiet for 500 ms
(the agent's "ready" line out); each timed from spawn to exit.

Rounds alternate cold and restore. The snapshot is taken three times (full)
by snapctl, which prints the VMM's memory overhead during each: its peak RSS
during the snapshot less its RSS just before (guest pages touched stay
counted in both). Writes JSON to OUT.

usage: snap_linux.py BUILD OUT ROUNDS
"""
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

TIMEOUT = 300
CMDLINE = "console=ttyS0 reboot=k panic=-1 pci=off quiet arcvm.shell=1"
# What `arcvm exec` boots (cli/exec.c: DEFAULT_CMDLINE, AGENT_CMDLINE).
EXEC_CMDLINE = ("console=ttyS0 reboot=k panic=-1 pci=off quiet arcvm.agent=1 arcvm.modules=1 "
                "rdinit=/sbin/arcvm-init quiet")


def wait_for(proc, needle, deadline):
    buf = b""
    os.set_blocking(proc.stdout.fileno(), False)
    while needle not in buf:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"no {needle!r}: {buf[-2000:]!r}")
        try:
            chunk = proc.stdout.read(65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
        else:
            time.sleep(0.0005)
    return buf


def timed(cmd, ready, answer):
    """Seconds from spawn until `answer` follows the command typed after
    `ready` (or at once when ready is None)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + TIMEOUT
        if ready:
            wait_for(proc, ready, deadline)
        proc.stdin.write(b"echo ANS-$((40+2))\n")
        proc.stdin.flush()
        wait_for(proc, answer, deadline)
        return time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait()


def timed_exit(cmd):
    """Seconds from spawn to a successful exit."""
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    t = time.monotonic() - t0
    if r.returncode:
        raise RuntimeError(f"{cmd} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return t


def exec_series(build, scratch, rounds):
    """`arcvm exec -- true` cold and from a snapshot, alternating."""
    guest = build / "guest"
    arcvm, snapctl = build / "arcvm", build / "tests" / "snapshot" / "snapctl"
    snap = scratch / "exec-snap"
    r = subprocess.run([snapctl, "--kernel", guest / "vmlinux", "--initrd",
                        guest / "initrd.cpio.gz", "--cmdline", EXEC_CMDLINE, "--mem", "512M",
                        "--rng", "--timeout", "240", "--vsock", scratch / "agent.sock",
                        "--vsock-ready", "1024", "--quiet", "500", "--snapshot", snap],
                       capture_output=True, timeout=TIMEOUT)
    if r.returncode:
        raise RuntimeError(f"snapctl (exec snapshot) failed: {r.stderr.decode()}")
    cold_cmd = [arcvm, "exec", "--kernel", guest / "vmlinux", "--initrd",
                guest / "initrd.cpio.gz", "--", "true"]
    snap_cmd = [arcvm, "exec", "--from-snapshot", snap, "--", "true"]
    cold, restored = [], []
    for i in range(rounds):
        order = [("exec", cold_cmd, cold), ("exec --from-snapshot", snap_cmd, restored)]
        for name, cmd, into in order if i % 2 == 0 else order[::-1]:
            into.append(timed_exit(cmd))
            print(f"round {i} {name}: {into[-1] * 1000:.1f} ms", flush=True)
    return {
        "exec_cold_ms": [t * 1000 for t in cold],
        "exec_snapshot_ms": [t * 1000 for t in restored],
        "exec_cold_median_ms": statistics.median(cold) * 1000,
        "exec_snapshot_median_ms": statistics.median(restored) * 1000,
        "exec_ratio": statistics.median(restored) / statistics.median(cold),
    }


def main():
    build, out, rounds = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
    guest = build / "guest"
    kernel, initrd = guest / "vmlinux", guest / "initrd.cpio.gz"
    arcvm, snapctl = build / "arcvm", build / "tests" / "snapshot" / "snapctl"
    scratch = pathlib.Path(tempfile.mkdtemp())
    snap = scratch / "snap"
    r = subprocess.run([snapctl, "--kernel", kernel, "--initrd", initrd, "--cmdline", CMDLINE,
                        "--mem", "256M", "--expect", "ARCVM-INIT-READY",
                        "--send", "echo UP-$((1+1))\\n", "--expect", "UP-2",
                        "--quiet", "500", "--snapshot", snap, "--resume", "--snapshot", snap, "--resume",
                        "--snapshot", snap], capture_output=True, timeout=TIMEOUT)
    if r.returncode:
        raise RuntimeError(f"snapctl failed: {r.stderr.decode()}")
    overhead = [int(k) for k in re.findall(r"rss-overhead (\d+) KiB", r.stderr.decode())]
    writes = [float(ms) for ms in re.findall(r"write ([\d.]+) ms", r.stderr.decode())]
    cold_cmd = [arcvm, "run", "--kernel", kernel, "--initrd", initrd, "--mem", "256M",
                "--cmdline", CMDLINE]
    restore_cmd = [arcvm, "snapshot", "restore", snap]
    cold, restore = [], []
    for i in range(rounds):
        order = [("cold", cold_cmd), ("restore", restore_cmd)]
        for name, cmd in order if i % 2 == 0 else order[::-1]:
            t = timed(cmd, b"ARCVM-INIT-READY" if name == "cold" else None, b"ANS-42")
            (cold if name == "cold" else restore).append(t)
            print(f"round {i} {name}: {t * 1000:.1f} ms", flush=True)
    res = {
        "rounds": rounds,
        "cold_ms": [t * 1000 for t in cold], "restore_ms": [t * 1000 for t in restore],
        "cold_median_ms": statistics.median(cold) * 1000,
        "restore_median_ms": statistics.median(restore) * 1000,
        "ratio": statistics.median(restore) / statistics.median(cold),
        "snapshot_rss_overhead_kib": overhead, "snapshot_write_ms": writes,
        "mem": "256M", "memory_file_bytes": (snap / "memory").stat().st_size,
        "memory_file_allocated_bytes": (snap / "memory").stat().st_blocks * 512,
    }
    res.update(exec_series(build, scratch, rounds))
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res))


if __name__ == "__main__":
    main()

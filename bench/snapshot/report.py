#!/usr/bin/python3
"""Writes OUT/snapshots.md, the Snapshots section of bench/RESULTS.md, from
bench/snapshot/run.sh's results; run.sh puts it between the section's
markers with bench/section.sh.

usage: report.py OUT
"""
import datetime
import json
import pathlib
import platform
import re
import sys

def load_avg(path):
    m = re.search(r"load average: ([\d.]+)", path.read_text())
    return m.group(1) if m else "?"


def section(out):
    native = json.loads(re.search(r"RESULT (\{.*\})", (out / "native.txt").read_text()).group(1))
    linux = json.loads((out / "linux.json").read_text())
    when = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    pvm = pathlib.Path("/sys/module/kvm_pvm").exists()
    over = linux["snapshot_rss_overhead_kib"]
    return f"""## Snapshots

Written by `make bench-snapshot` (bench/snapshot/run.sh); rerun it to refresh.

- Date of the run: {when}. 1-minute load average {load_avg(out / "load-start.txt")} at the start,
  {load_avg(out / "load-end.txt")} at the end (the 2-core machine is shared with other work).
- Host kernel {platform.release()}; /dev/kvm is {"PVM (kvm_pvm)" if pvm else "native KVM"}. The Linux
  figures come from the test host (QEMU TCG with nested SVM, about 10x slower than hardware):
  only their ratio counts.

| measure | result | target |
|---|---|---|
| native: `arcvm_vm_restore()` to the guest's first instruction, tiny real-mode guest, 4 MiB, median of {native["runs"]} | {native["median_ms"]:.2f} ms (min {native["min_ms"]:.2f}, max {native["max_ms"]:.2f}; the restore call alone {native["median_restore_call_ms"]:.2f}) | < 2 ms |
| Linux: restore to a console that answers, median of {linux["rounds"]} | {linux["restore_median_ms"]:.0f} ms | |
| Linux: cold boot to the same point, median of {linux["rounds"]} | {linux["cold_median_ms"]:.0f} ms | |
| Linux: restore / cold boot | {linux["ratio"]:.3f}x | <= 0.02x |
| Linux: `arcvm exec --from-snapshot DIR -- true`, spawn to exit, median of {len(linux["exec_snapshot_ms"])} | {linux["exec_snapshot_median_ms"]:.0f} ms | |
| Linux: `arcvm exec -- true` (boot), spawn to exit, median of {len(linux["exec_cold_ms"])} | {linux["exec_cold_median_ms"]:.0f} ms | |
| Linux: exec from snapshot / exec with boot | {linux["exec_ratio"]:.3f}x | <= 0.05x |
| VMM memory overhead while snapshotting a 256 MiB guest (peak RSS during less RSS before), {len(over)} snapshots | max {max(over) / 1024:.2f} MiB ({", ".join(f"{k} KiB" for k in over)}) | < 5 MiB |
| writing the full snapshot (256 MiB RAM, zero pages left as holes) | {", ".join(f"{w:.0f} ms" for w in linux["snapshot_write_ms"])}; memory file {linux["memory_file_allocated_bytes"] >> 20} MiB allocated of {linux["memory_file_bytes"] >> 20} MiB | |

Method: native, bench/snapshot/snap_native.c: one snapshot of `1: out %al,$0xe0; jmp 1b`, then
two warm-up and {native["runs"]} measured restores in one process, each timed from the call to
`arcvm_vm_restore()` to the first port write the guest makes after `arcvm_vm_resume()` (the
restore includes creating the KVM VM, mapping the memory file and starting the threads).
Linux, bench/snapshot/snap_linux.py: Debian's kernel and arcvm's initramfs, 1 vCPU, 256M,
`{"console=ttyS0 reboot=k panic=-1 pci=off quiet arcvm.shell=1"}`; each time runs from the
spawn of `arcvm` to the shell's answer to `echo ANS-$((40+2))` on the serial console, cold
(`arcvm run`, command typed once ARCVM-INIT-READY appears) and restored (`arcvm snapshot
restore` of a snapshot snapctl took at the shell prompt once the console had been quiet for 500
ms, command typed at once), alternating.
Cold: {", ".join(f"{t:.0f}" for t in linux["cold_ms"])} ms; restore: {", ".join(f"{t:.0f}" for t in linux["restore_ms"])} ms.
Exec: `arcvm exec -- true` with its defaults (512M, 1 vCPU, rng, the agent) against `arcvm exec
--from-snapshot DIR -- true`, DIR a snapshot snapctl took of that same machine once its agent
accepted a vsock connection and the console had been quiet for 500 ms; each from spawn to exit (the command run and the VM powered off),
alternating. Boot: {", ".join(f"{t:.0f}" for t in linux["exec_cold_ms"])} ms; from snapshot: {", ".join(f"{t:.0f}" for t in linux["exec_snapshot_ms"])} ms.
"""


def main():
    out = pathlib.Path(sys.argv[1])
    md = section(out)
    (out / "snapshots.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()

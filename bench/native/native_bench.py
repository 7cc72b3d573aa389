#!/usr/bin/python3
"""native_bench.py - arcvm against QEMU microvm and a bare KVM_RUN loop, with
a tiny real-mode guest (bench/native/firmware.S) on this host's /dev/kvm.

  start:  wall time of `arcvm run --bios fw0.bin` and of QEMU microvm with the
          same image, from just before the spawn to the process's exit. fw0
          writes S5 to port 0x600 as its first port write and that write ends
          both VMMs, so this is "process start to the guest's first port
          write" plus the VMM's exit.
  exits:  the same with fwN.bin (N `out`s to an unclaimed port first); the
          cost of one PIO exit round trip is (t_N - median t_0) / N, in wall
          time and in the VMM's CPU time (user + system, which a busy machine
          disturbs less than wall time), median over the fwN runs.
  rss:    ru_maxrss of each fw0 run; then where arcvm's RSS goes, read from
          /proc/PID/smaps while it runs fwN, and the RSS of programs that
          only load the C runtime.

Runs alternate between the VMMs (the order rotates every round). Prints the
figures and writes them as JSON to --out. Needs /dev/kvm and QEMU.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

RUN_TIMEOUT = 60        # seconds for any one run, fwN included
SMAPS_DELAY = 0.5       # seconds into a fwN run at which smaps is read


def vmm_commands(args):
    """name -> (argv builder taking the firmware path, expected exit code)."""
    return {
        "arcvm": (lambda fw: [args.arcvm, "run", "--bios", fw], 0),
        "qemu": (lambda fw: [args.qemu, "-M", "microvm", "-enable-kvm", "-bios", fw,
                             "-nodefaults", "-no-user-config", "-display", "none",
                             "-device", "isa-debug-exit,iobase=0x600,iosize=1"], 105),
        "bare_kvm": (lambda fw: [args.bare, fw], 0),
    }


def run_series(cmds, names, fw, rounds, scratch):
    """rounds x each VMM in names, alternating: name -> list of run dicts."""
    results = {n: [] for n in names}
    for i in range(rounds):
        for name in benchlib.rotate(names, i):
            build, code = cmds[name]
            results[name].append(benchlib.run_timed(
                build(fw), RUN_TIMEOUT, code, os.path.join(scratch, name + ".stderr")))
    return results


def smaps(pid):
    """The mappings of pid: dicts with size, rss, anon_huge (KiB) and name."""
    maps, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                cur = {"size": (hi - lo) // 1024, "rss": 0, "anon_huge": 0,
                       "name": head[5] if len(head) > 5 else ""}
                maps.append(cur)
            elif head[0] == "Rss:":
                cur["rss"] = int(head[1])
            elif head[0] == "AnonHugePages:":
                cur["anon_huge"] = int(head[1])
    return maps


def classify(m, binary):
    name = m["name"]
    if name == "":
        if m["size"] >= 64 * 1024:
            return "guest RAM"
        if m["size"] == 8 * 1024:
            return "thread stacks (8 MiB each)"
        return "other anonymous"
    if os.path.realpath(name) == os.path.realpath(binary):
        return "VMM binary"
    if ".so" in os.path.basename(name):
        return "shared libraries (libc, ld.so, ...)"
    if name in ("[heap]", "[stack]"):
        return "heap" if name == "[heap]" else "main stack"
    if name.startswith("anon_inode:kvm"):
        return "kvm_run page"
    return "other: " + name


def rss_breakdown(argv, binary, expect_code, scratch):
    """Starts argv, reads its smaps after SMAPS_DELAY, waits for it: RSS per
    category, AnonHugePages of the guest RAM, thread count, VmHWM."""
    pid, _ = benchlib.spawn(argv, stderr=os.path.join(scratch, "smaps.stderr"))
    try:
        time.sleep(SMAPS_DELAY)
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            vmm = int(f.read().split()[0])      # the command under vmmrun
        maps = smaps(vmm)
        with open("/proc/%d/status" % vmm) as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, IndexError) as e:
        benchlib.kill(pid)
        benchlib.reap(pid)
        raise benchlib.BenchError("could not read /proc/%d while it ran: %s" % (pid, e))
    _, code, _ = benchlib.wait_exit(pid, RUN_TIMEOUT)
    if code != expect_code:
        raise benchlib.BenchError("%s exited with %d during the RSS breakdown" % (argv[0], code))
    cats = {}
    for m in maps:
        c = classify(m, binary)
        cats[c] = cats.get(c, 0) + m["rss"]
    guest = [m for m in maps if classify(m, binary) == "guest RAM"]
    return {"categories_kib": {k: v for k, v in sorted(cats.items()) if v},
            "guest_anon_huge_kib": sum(m["anon_huge"] for m in guest),
            "guest_mapping_kib": sum(m["size"] for m in guest),
            "threads": int(status["Threads"]), "vm_hwm_kib": int(status["VmHWM"].split()[0])}


def med(runs, key):
    return benchlib.summary([r[key] for r in runs])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arcvm", required=True)
    p.add_argument("--bare", required=True, help="bare_kvm binary")
    p.add_argument("--baseline", required=True, help="rss_baseline binary")
    p.add_argument("--vmmrun", required=True, help="vmmrun launcher binary")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--fw0", required=True)
    p.add_argument("--fwn", required=True)
    p.add_argument("--loops", type=int, required=True, help="N in fwN")
    p.add_argument("--runs", type=int, default=25, help="fw0 runs per VMM (>= 20)")
    p.add_argument("--exit-runs", type=int, default=11, help="fwN runs per VMM")
    p.add_argument("--scratch", required=True, help="folder for stderr files")
    p.add_argument("--out", required=True, help="JSON result")
    args = p.parse_args()
    benchlib.setup(args.vmmrun, args.scratch)
    cmds = vmm_commands(args)
    names = ["arcvm", "qemu", "bare_kvm"]

    load_before = os.getloadavg()[0]
    run_series(cmds, names, args.fw0, 2, args.scratch)     # warm the page cache
    print("native: %d alternating fw0 runs per VMM ..." % args.runs, flush=True)
    start = run_series(cmds, names, args.fw0, args.runs, args.scratch)
    print("native: %d alternating fw%d runs per VMM ..." % (args.exit_runs, args.loops),
          flush=True)
    loops = run_series(cmds, names, args.fwn, args.exit_runs, args.scratch)

    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "loops": args.loops, "runs": args.runs, "exit_runs": args.exit_runs,
           "qemu_version": subprocess.run([args.qemu, "--version"], capture_output=True,
                                          text=True).stdout.splitlines()[0],
           "kernel": platform.release(), "vmm": {},
           "loadavg_1min": [load_before, os.getloadavg()[0]],
           "fw_bytes": os.path.getsize(args.fw0)}
    for n in names:
        t0 = med(start[n], "wall_s")
        tn = med(loops[n], "wall_s")
        per_exit = [(r["wall_s"] - t0["median"]) / args.loops * 1e6 for r in loops[n]]
        c0 = med(start[n], "cpu_s")
        per_exit_cpu = [(r["cpu_s"] - c0["median"]) / args.loops * 1e6 for r in loops[n]]
        res["vmm"][n] = {"fw0_wall_s": t0, "fwn_wall_s": tn, "fw0_cpu_s": c0,
                         "fwn_cpu_s": med(loops[n], "cpu_s"),
                         "per_exit_us": benchlib.summary(per_exit),
                         "per_exit_cpu_us": benchlib.summary(per_exit_cpu),
                         "fw0_maxrss_kib": med(start[n], "maxrss_kib")}

    res["rss_baseline_kib"] = {
        "/bin/true": med([benchlib.run_timed(["/bin/true"], 10, 0) for _ in range(5)],
                         "maxrss_kib"),
        "rss_baseline": med([benchlib.run_timed([args.baseline], 10, 0) for _ in range(5)],
                            "maxrss_kib")}
    res["arcvm_smaps"] = rss_breakdown(cmds["arcvm"][0](args.fwn), args.arcvm, 0, args.scratch)
    qemu_bin = subprocess.run(["sh", "-c", "command -v " + args.qemu], capture_output=True,
                              text=True).stdout.strip()
    res["qemu_smaps"] = rss_breakdown(cmds["qemu"][0](args.fwn), qemu_bin, 105, args.scratch)

    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    v = res["vmm"]
    print("native: fw0 wall median: arcvm %.2f ms, QEMU %.2f ms, bare %.2f ms; "
          "arcvm/QEMU %.3f" % (v["arcvm"]["fw0_wall_s"]["median"] * 1e3,
                               v["qemu"]["fw0_wall_s"]["median"] * 1e3,
                               v["bare_kvm"]["fw0_wall_s"]["median"] * 1e3,
                               v["arcvm"]["fw0_wall_s"]["median"] / v["qemu"]["fw0_wall_s"]["median"]))
    for key, what in (("per_exit_us", "wall"), ("per_exit_cpu_us", "CPU")):
        print("native: per PIO exit (%s): arcvm %.2f us, QEMU %.2f us, bare %.2f us; "
              "arcvm/bare %.3f" % (what, v["arcvm"][key]["median"], v["qemu"][key]["median"],
                                   v["bare_kvm"][key]["median"],
                                   v["arcvm"][key]["median"] / v["bare_kvm"][key]["median"]))
    print("native: fw0 peak RSS: arcvm %d KiB, QEMU %d KiB, bare %d KiB" % tuple(
        v[n]["fw0_maxrss_kib"]["median"] for n in names))
    print("native: wrote", args.out)


if __name__ == "__main__":
    try:
        main()
    except benchlib.BenchError as e:
        sys.exit("native_bench: %s" % e)

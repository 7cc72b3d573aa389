#!/usr/bin/python3
"""boot_bench.py - Debian's kernel and the arcvm initramfs booted again and
again with arcvm and with QEMU microvm, alternating, 1 vCPU, 256M.

Runs where /dev/kvm boots an unmodified Linux (inside the test host on PVM;
bench/linux/run_boot_bench.sh starts it there). For each boot it reads the
console line by line with timestamps and records, from just before the spawn:
  ready  the line ARCVM-INIT-READY (the initramfs's /init is running)
  exit   the process's exit (the guest powers off right after ready)
  rss    the VMM's peak RSS (ru_maxrss, via bench/vmmrun)
Configurations: arcvm with the ELF vmlinux (its default) and with the bzImage;
QEMU with the bzImage (what a user passes) and with the ELF vmlinux (booted
through its PVH note), and with --lean QEMU with leaner microvm flags. With --profile it
then boots each configuration once more with initcall_debug and has /init
print dmesg, to show where the time goes (kernel vs. before the kernel, the
slowest initcalls).

Writes boot.json, boot.md and the consoles to --out. Every boot has a timeout;
a boot that fails is recorded with its reason and the series goes on.
`boot_bench.py --reprofile OUT` derives the profile tables again from the
consoles kept in OUT.
"""
import argparse
import json
import os
import platform
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

READY = "ARCVM-INIT-READY"
POWER_DOWN = "reboot: Power down"
POWER_DOWN_GRACE = 10   # seconds a VMM gets to exit after the guest's last word
BASE_CMDLINE = "console=ttyS0 reboot=k panic=-1"

CONFIGS = [  # name, VMM, kernel key, what it shows
    ("arcvm-vmlinux", "arcvm", "vmlinux", "arcvm's default: the ELF kernel, extracted once"),
    ("qemu-bzImage", "qemu", "bzimage", "QEMU microvm as a user runs it"),
    ("arcvm-bzImage", "arcvm", "bzimage", "arcvm with the compressed kernel"),
    ("qemu-vmlinux", "qemu", "vmlinux", "QEMU microvm with the ELF kernel (PVH entry)"),
    ("qemu-lean-bzImage", "qemu-lean", "bzimage",
     "QEMU microvm without option ROMs, PIT, PIC, RTC (bench/qemu/microvm-boot.sh)"),
]

# The flags of bench/qemu/microvm-boot.sh: microvm without what Linux does not
# need on it. The plain command above is the anchor the issue names.
LEAN_MACHINE = "microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=on"


def command(args, vmm, kernel, cmdline):
    if vmm == "arcvm":
        return [args.arcvm, "run", "--kernel", kernel, "--initrd", args.initrd,
                "--mem", "256M", "--cpus", "1", "--cmdline", cmdline]
    machine = LEAN_MACHINE if vmm == "qemu-lean" else "microvm"
    return [args.qemu, "-M", machine, "-enable-kvm", "-cpu", "host", "-m", "256", "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-serial", "stdio",
            "-kernel", kernel, "-initrd", args.initrd, "-append", cmdline]


def boot(argv, timeout_s, stderr_path):
    """One boot: {"ready_s", "exit_s", "maxrss_kib", "exit", "killed_after_power_down",
    "console": [(seconds, line)], "error"}; error is None when it reached
    READY and the VMM ended by itself (or was ended after "Power down")."""
    rfd, wfd = os.pipe()
    pid, start = benchlib.spawn(argv, stdout_fd=wfd, stderr=stderr_path)
    os.close(wfd)
    pidfd = os.pidfd_open(pid)
    res = {"ready_s": None, "exit_s": None, "maxrss_kib": None, "exit": None,
           "killed_after_power_down": False, "console": [], "error": None}
    buf, power_down_at, eof = b"", None, False
    deadline = time.monotonic() + timeout_s
    poller = select.poll()
    poller.register(rfd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    exited_ns = None
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                res["error"] = "no exit within %d s (last line: %r)" % (
                    timeout_s, res["console"][-1][1] if res["console"] else "")
                break
            if power_down_at and now > power_down_at + POWER_DOWN_GRACE:
                res["killed_after_power_down"] = True
                break
            for fd, _ in poller.poll(500):
                if fd == pidfd and exited_ns is None:
                    exited_ns = time.perf_counter_ns()
                    poller.unregister(pidfd)
                elif fd == rfd:
                    chunk = os.read(rfd, 65536)
                    t = (time.perf_counter_ns() - start) / 1e9
                    if not chunk:
                        eof = True
                        poller.unregister(rfd)
                        continue
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    for raw in lines:
                        line = raw.decode("utf-8", "replace").rstrip("\r")
                        res["console"].append((round(t, 6), line))
                        if READY in line and res["ready_s"] is None:
                            res["ready_s"] = t
                        if POWER_DOWN in line and power_down_at is None:
                            power_down_at = time.monotonic()
            if exited_ns is not None and eof:
                break
    finally:
        os.close(rfd)
        if exited_ns is None:
            benchlib.kill(pid)
        os.close(pidfd)
        res["exit"], res["maxrss_kib"] = benchlib.reap(pid)
    if exited_ns is not None:
        res["exit_s"] = (exited_ns - start) / 1e9
    if res["error"] is None and res["ready_s"] is None:
        res["error"] = "no %s line (exit %s; last line: %r)" % (
            READY, res["exit"], res["console"][-1][1] if res["console"] else "")
    if res["error"] is None and not res["killed_after_power_down"] and res["exit"] != 0:
        res["error"] = "exit status %s after %s" % (res["exit"], READY)
    return res


# The profile boot: quiet as in the series (so the console costs the same),
# initcall_debug into the kernel's log, which /init prints after READY.
PROFILE_EXTRA = "quiet initcall_debug log_buf_len=4M arcvm.run=dmesg"
DMESG_LINE = re.compile(r"\[\s*(\d+\.\d+)\]\s?(.*)")
INITCALL = re.compile(r"initcall (\S+) returned -?\d+ after (\d+) usecs")
TOP = 8


def profile(console):
    """Where a boot's time went, from its console and the dmesg /init printed:
    host time to READY, kernel time at "Run /init", the slowest initcalls and
    the longest gaps between kernel log lines."""
    ready = next((t for t, line in console if READY in line), None)
    after = False
    log = []
    for _, line in console:
        if READY in line:
            after = True
        m = DMESG_LINE.match(line) if after else None
        if m:
            log.append((float(m.group(1)), m.group(2)))
    run_init = next((k for k, text in log if text.startswith("Run /init")), None)
    calls = sorted(((int(m.group(2)) / 1e6, m.group(1).split("+")[0]) for m in
                    (INITCALL.search(text) for _, text in log) if m), reverse=True)
    # Gaps up to "Run /init" only: later lines come from /init and the dmesg itself.
    boot_log = [e for e in log if run_init is None or e[0] <= run_init]
    gaps = sorted(((boot_log[i + 1][0] - boot_log[i][0], boot_log[i][1][:90])
                   for i in range(len(boot_log) - 1)
                   if not INITCALL.search(boot_log[i + 1][1])), reverse=True)
    return {"ready_s": ready, "kernel_run_init_s": run_init,
            "outside_kernel_s": (ready - run_init) if ready and run_init is not None else None,
            "initcalls_total_s": sum(c[0] for c in calls), "initcalls": calls[:TOP],
            "gaps": gaps[:TOP], "log_lines": len(log)}


def summaries(boots):
    ok = [b for b in boots if b["error"] is None]
    out = {"ok": len(ok), "failed": len(boots) - len(ok),
           "errors": sorted({b["error"] for b in boots if b["error"]}),
           "killed_after_power_down": sum(b["killed_after_power_down"] for b in boots)}
    for key in ("ready_s", "exit_s", "maxrss_kib"):
        vals = [b[key] for b in ok if b[key] is not None]
        out[key] = benchlib.summary(vals) if vals else None
    return out


def fmt(s, key, scale=1.0, digits=2):
    if not s.get(key):
        return "-"
    return "%.*f" % (digits, s[key]["median"] * scale)


def ratio(res, a, b, key):
    sa, sb = res["configs"][a]["summary"].get(key), res["configs"][b]["summary"].get(key)
    if not sa or not sb:
        return None
    return sa["median"] / sb["median"]


def markdown(res):
    lines = ["| configuration | boots ok | time to init (s) | time to exit (s) | peak RSS (MiB) |"
             " IQR time to init (s) |",
             "|---|---|---|---|---|---|"]
    for name, _, _, what in CONFIGS:
        if name not in res["configs"]:
            continue
        s = res["configs"][name]["summary"]
        iqr = ("%.2f-%.2f" % (s["ready_s"]["q1"], s["ready_s"]["q3"])) if s["ready_s"] else "-"
        lines.append("| %s (%s) | %d/%d | %s | %s | %s | %s |" % (
            name, what, s["ok"], s["ok"] + s["failed"], fmt(s, "ready_s"), fmt(s, "exit_s"),
            fmt(s, "maxrss_kib", 1 / 1024, 1), iqr))
    lines.append("")
    lines.append("| ratio (medians) | time to init | time to exit | peak RSS |")
    lines.append("|---|---|---|---|")
    for a, b in RATIOS:
        if a not in res["configs"] or b not in res["configs"]:
            continue
        cells = [ratio(res, a, b, k) for k in ("ready_s", "exit_s", "maxrss_kib")]
        lines.append("| %s / %s | %s |" % (a, b, " | ".join(
            "-" if c is None else "%.3f" % c for c in cells)))
    for name in res["configs"]:
        s = res["configs"][name]["summary"]
        for e in s["errors"]:
            lines.append("\n%s failed: %s" % (name, e))
        if s["killed_after_power_down"]:
            lines.append("\n%s: %d boots did not exit by themselves within %d s of \"%s\" "
                         "and were ended with SIGTERM" % (name, s["killed_after_power_down"],
                                                          POWER_DOWN_GRACE, POWER_DOWN))
    if res.get("profile"):
        lines += profile_markdown(res["profile"])
    return "\n".join(lines) + "\n"


def profile_markdown(prof):
    names = [n for n, _, _, _ in CONFIGS if n in prof]
    lines = ["", "Profile boots (one per configuration, `%s`; kernel times are "
             "printk timestamps from the guest's dmesg):" % PROFILE_EXTRA, "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    rows = [("host: spawn to ARCVM-INIT-READY (s)", "ready_s"),
            ("kernel: clock start to `Run /init` (s)", "kernel_run_init_s"),
            ("difference: VMM setup, image load, decompression, kernel before its clock, "
             "/init to READY (s)", "outside_kernel_s"),
            ("sum of all initcalls (s)", "initcalls_total_s")]
    for label, key in rows:
        lines.append("| %s | %s |" % (label, " | ".join(
            "-" if prof[n].get(key) is None else "%.2f" % prof[n][key] for n in names)))
    for n in names:
        p = prof[n]
        if p.get("error"):
            lines.append("\n%s profile boot failed: %s" % (n, p["error"]))
            continue
        lines.append("")
        lines.append("%s: slowest initcalls: %s." % (n, "; ".join(
            "%s %.3f s" % (name, t) for t, name in p["initcalls"]) or "none logged"))
        lines.append("%s: longest gaps between other kernel log lines (after the line): %s." % (
            n, "; ".join("%.3f s after \"%s\"" % (t, text) for t, text in p["gaps"][:5])))
    return lines


RATIOS = [("arcvm-vmlinux", "qemu-bzImage"), ("arcvm-bzImage", "qemu-bzImage"),
          ("arcvm-vmlinux", "qemu-vmlinux"), ("arcvm-bzImage", "qemu-lean-bzImage"),
          ("arcvm-vmlinux", "qemu-lean-bzImage"), ("qemu-vmlinux", "qemu-bzImage"),
          ("qemu-lean-bzImage", "qemu-bzImage")]


def write_results(out, res):
    """boot.json and boot.md (each replaced whole, via a temporary file);
    returns the markdown."""
    md = markdown(res)
    for name, text in (("boot.json", json.dumps(res, indent=1)), ("boot.md", md)):
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name))
    return md


def load_console(path):
    """The console save_console() wrote: [(seconds, line)]."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            t, _, text = line.rstrip("\n").lstrip().partition(" ")
            out.append((float(t), text))
    return out


def reprofile(out):
    """Derives the profile tables again from the consoles kept in out (after
    a change to profile()), and rewrites boot.json and boot.md."""
    with open(os.path.join(out, "boot.json")) as f:
        res = json.load(f)
    for name, prof in res.get("profile", {}).items():
        console = load_console(os.path.join(out, name + ".profile.console"))
        res["profile"][name] = dict(profile(console), error=prof.get("error"))
    return write_results(out, res)


def save_console(path, console):
    with open(path, "w") as f:
        for t, line in console:
            f.write("%10.6f %s\n" % (t, line))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    if sys.argv[1:2] == ["--reprofile"]:
        if len(sys.argv) != 3:
            sys.exit("usage: boot_bench.py --reprofile OUT")
        print(reprofile(sys.argv[2]))
        return
    p.add_argument("--arcvm", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--vmlinux", required=True)
    p.add_argument("--bzimage", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--vmmrun", required=True)
    p.add_argument("--rounds", type=int, default=10, help="boots per configuration")
    p.add_argument("--timeout", type=int, default=180, help="seconds per boot")
    p.add_argument("--profile", action="store_true", help="one initcall_debug boot each at the end")
    p.add_argument("--only", help="comma-separated configurations to boot (default: all)")
    p.add_argument("--lean", action="store_true",
                   help="also QEMU microvm with the flags of bench/qemu/microvm-boot.sh")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scratch = "/tmp/boot_bench"
    benchlib.setup(args.vmmrun, scratch)
    kernels = {"vmlinux": args.vmlinux, "bzimage": args.bzimage}
    conf = {c[0]: c for c in CONFIGS}
    names = [c[0] for c in CONFIGS if args.lean or c[1] != "qemu-lean"]
    if args.only:
        names = [n for n in args.only.split(",") if n in conf]
        if not names:
            sys.exit("boot_bench: --only names none of %s" % ", ".join(conf))
    quiet = BASE_CMDLINE + " quiet"

    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "where": "test host (L1)" if os.environ.get("TESTHOST") else "this machine",
           "kernel_l1": platform.release(), "cpus_l1": os.cpu_count(),
           "qemu_version": subprocess.run([args.qemu, "--version"], capture_output=True,
                                          text=True).stdout.splitlines()[0],
           "rounds": args.rounds, "cmdline": quiet, "configs": {},
           "loadavg_1min_l1": [os.getloadavg()[0]]}
    boots = {n: [] for n in names}
    for i in range(args.rounds):
        for name in benchlib.rotate(names, i):
            _, vmm, kkey, _ = conf[name]
            b = boot(command(args, vmm, kernels[kkey], quiet), args.timeout,
                     os.path.join(args.out, name + ".stderr"))
            print("boot: round %d %-17s ready %s exit %s rss %s KiB%s" % (
                i + 1, name, "%.2f" % b["ready_s"] if b["ready_s"] else "-",
                "%.2f" % b["exit_s"] if b["exit_s"] else "-", b["maxrss_kib"],
                "  FAILED: " + b["error"] if b["error"] else ""), flush=True)
            if i == 0:
                save_console(os.path.join(args.out, name + ".console"), b["console"])
            del b["console"]
            boots[name].append(b)
        # Written after every round: a run cut short still leaves its figures.
        res["rounds"] = i + 1
        res["loadavg_1min_l1"] = res["loadavg_1min_l1"][:1] + [os.getloadavg()[0]]
        for name in names:
            res["configs"][name] = {"command": command(args, conf[name][1],
                                                       kernels[conf[name][2]], quiet),
                                    "boots": boots[name], "summary": summaries(boots[name])}
        write_results(args.out, res)

    if args.profile:
        res["profile"] = {}
        for name in names:
            _, vmm, kkey, _ = conf[name]
            b = boot(command(args, vmm, kernels[kkey], quiet.replace("quiet", PROFILE_EXTRA)),
                     args.timeout, os.path.join(args.out, name + ".profile.stderr"))
            save_console(os.path.join(args.out, name + ".profile.console"), b["console"])
            res["profile"][name] = dict(profile(b["console"]), error=b["error"])
            print("boot: profile %-17s ready %s%s" % (
                name, "%.2f" % b["ready_s"] if b["ready_s"] else "-",
                "  FAILED: " + b["error"] if b["error"] else ""), flush=True)

    print(write_results(args.out, res))


if __name__ == "__main__":
    try:
        main()
    except benchlib.BenchError as e:
        sys.exit("boot_bench: %s" % e)

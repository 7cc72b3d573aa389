#!/usr/bin/python3
"""Block device benchmark: arcvm's virtio-blk against QEMU microvm's
virtio-blk-device, on the same raw image file, in the same run.

Each boot of either VMM runs bench/blk/blkio.c in the guest (O_DIRECT): a
sequential read of MIB MiB in 1 MiB blocks, COUNT random 4 KiB reads with one
request in flight, the same from 8 threads (up to 8 in flight) and a
sequential write of MIB MiB, REPS times over. A boot's figure for a row is
its best pass (other load on the machine only ever slows a pass down). The
VMMs alternate, the one that goes first alternating too, for RUNS boots
each; the table gives the median of the boots' figures and their range.

Both VMMs use the host page cache for the image and flush it with fdatasync
on a guest flush: arcvm's default cache mode (writeback) and QEMU's
cache=writeback. Needs a /dev/kvm that boots unmodified Linux (on PVM:
inside the test host, see bench/blk/run.sh).
"""
import argparse
import base64
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

ROWS = [("seqread", "MBps", "sequential read, 1 MiB, O_DIRECT", "MB/s"),
        ("seqwrite", "MBps", "sequential write, 1 MiB, O_DIRECT", "MB/s"),
        ("randread", "IOPS", "random read, 4 KiB, O_DIRECT, QD1", "IOPS"),
        ("randread_qd8", "IOPS", "random read, 4 KiB, O_DIRECT, 8 threads (QD8)", "IOPS")]
LINE = re.compile(r"BLKIO (\w+) bytes=(\d+) ops=(\d+) ns=(\d+) MBps=([\d.]+) IOPS=([\d.]+)")
SEED = 20261121


def guest_script(args):
    # Read before writing so the first reads see the image's random bytes.
    one = (f"blkio seqread /dev/vda {args.mib} && "
           f"blkio randread /dev/vda {args.rand_count} {SEED} && "
           f"blkio randread /dev/vda {args.rand_count} {SEED} 8 && "
           f"blkio seqwrite /dev/vda {args.mib}")
    return " && ".join([one] * args.reps)


def append_words(args):
    run64 = base64.b64encode(guest_script(args).encode()).decode()
    return f"arcvm.run64={run64}"


def arcvm_cmd(args, image):
    return [args.arcvm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
            "--mem", "512M", "--cpus", "1", "--drive", f"path={image}",
            "--append", append_words(args)]


def qemu_cmd(args, image):
    # The same kernel command line as arcvm's default plus what arcvm's CLI
    # adds for a drive (arcvm.modules=1); pci=off is moot on microvm.
    append = f"console=ttyS0 reboot=k panic=-1 quiet arcvm.modules=1 {append_words(args)}"
    return [args.qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host", "-m", "512", "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-serial", "stdio",
            "-kernel", args.kernel, "-initrd", args.initrd, "-append", append,
            "-drive", f"id=d0,file={image},format=raw,if=none,cache=writeback",
            "-device", "virtio-blk-device,drive=d0"]


def boot(name, cmd, timeout, reps):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        sys.exit(f"blk-bench: {name} did not finish in {timeout} s; output:\n{out}")
    out = p.stdout.decode(errors="replace")
    passes = {}
    for m in LINE.finditer(out):
        passes.setdefault(m.group(1), []).append(
            {"MBps": float(m.group(5)), "IOPS": float(m.group(6))})
    results = {key: max(passes.get(key, [{field: 0}]), key=lambda x: x[field])
               for key, field, _, _ in ROWS}
    results["passes"] = passes
    if (p.returncode != 0 or "ARCVM-RUN-EXIT=0" not in out
            or any(len(passes.get(key, [])) != reps for key, _, _, _ in ROWS)):
        sys.exit(f"blk-bench: {name} failed (status {p.returncode});\n--- stdout\n{out}\n"
                 f"--- stderr\n{p.stderr.decode(errors='replace')}")
    return results


def make_image(path, mib):
    """Random bytes, fully allocated: no VMM reads holes."""
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))


def table(samples, runs):
    lines = ["| row | arcvm (range) | QEMU microvm (range) | arcvm/QEMU |",
             "|---|---:|---:|---:|"]
    summary = {}

    def cell(values):
        return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"
    for key, field, label, unit in ROWS:
        av = [s[key][field] for s in samples["arcvm"]]
        qv = [s[key][field] for s in samples["qemu"]]
        a, q = statistics.median(av), statistics.median(qv)
        summary[key] = {"arcvm": a, "qemu": q, "ratio": a / q, "unit": unit}
        lines.append(f"| {label} ({unit}) | {cell(av)} | {cell(qv)} | {a / q:.2f}x |")
    lines.append("")
    lines.append(f"Medians over {runs} boots of each VMM (each boot: the best of its passes). "
                 f"Every boot, in order:")
    for vmm in ("arcvm", "qemu"):
        per = "; ".join(f"{key} " + " ".join(f"{s[key][field]:,.0f}" for s in samples[vmm])
                        for key, field, _, _ in ROWS)
        lines.append(f"- {vmm}: {per}")
    return "\n".join(lines), summary


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    build = pathlib.Path(os.environ.get("BUILD", root / "build"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arcvm", default=str(build / "arcvm"))
    ap.add_argument("--kernel", default=str(build / "guest" / "vmlinux"))
    ap.add_argument("--initrd", default=str(build / "bench" / "blk" / "initrd.cpio.gz"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--runs", type=int, default=5, help="boots of each VMM")
    ap.add_argument("--reps", type=int, default=3, help="passes of each row per boot")
    ap.add_argument("--mib", type=int, default=64, help="MiB per sequential pass")
    ap.add_argument("--rand-count", type=int, default=1000, help="random reads per pass")
    ap.add_argument("--image-mib", type=int, default=256)
    ap.add_argument("--image-dir", default=tempfile.gettempdir())
    ap.add_argument("--timeout", type=int, default=900, help="seconds per boot")
    ap.add_argument("--out", help="folder for results.json and results.md")
    args = ap.parse_args()
    if args.mib > args.image_mib:
        sys.exit("blk-bench: --mib is larger than --image-mib")
    for f in (args.arcvm, args.kernel, args.initrd):
        if not os.path.exists(f):
            sys.exit(f"blk-bench: {f} is missing (make all guest, make bench-blk builds the initrd)")

    image = pathlib.Path(args.image_dir) / "arcvm-blk-bench.img"
    make_image(image, args.image_mib)
    print(f"blk-bench: image {image} ({args.image_mib} MiB); per pass {args.mib} MiB "
          f"sequential, {args.rand_count} random reads; {args.reps} passes per boot, "
          f"{args.runs} boots of each VMM", flush=True)
    samples = {"arcvm": [], "qemu": []}
    try:
        for run in range(args.runs):
            order = ["arcvm", "qemu"] if run % 2 == 0 else ["qemu", "arcvm"]
            for vmm in order:
                cmd = arcvm_cmd(args, image) if vmm == "arcvm" else qemu_cmd(args, image)
                r = boot(vmm, cmd, args.timeout, args.reps)
                samples[vmm].append(r)
                print(f"run {run + 1} {vmm:5}: " + ", ".join(
                    f"{key} {r[key][field]:,.0f} {unit}" for key, field, _, unit in ROWS),
                    flush=True)
    finally:
        image.unlink(missing_ok=True)
    text, summary = table(samples, args.runs)
    print()
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.md").write_text(text + "\n")
        (out / "results.json").write_text(json.dumps(
            {"args": vars(args), "samples": samples, "summary": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()

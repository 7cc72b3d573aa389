#!/usr/bin/python3
"""TCP throughput of arcvm's virtio-net against QEMU microvm's, same kernel,
same initramfs, same guest commands, in one run (bench/net/net.mk).

Rows: user-mode NAT (arcvm --net user vs QEMU -netdev user; both libslirp)
and TAP (arcvm --net tap vs QEMU -netdev tap, vhost off: both copy in user
space), each guest->host and host->guest. One stream of --mib MiB per run;
the guest side is busybox (dd | nc, nc -l), the host side this script. The
time is taken on the host: first byte to EOF (guest->host), connect to the
guest closing after EOF (host->guest). Medians of --runs runs per row.

Needs a KVM that boots Debian's kernel (inside the test host on PVM) and, for
the TAP rows, root and iproute2 (a network namespace is made and removed).
"""
import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 900
GUEST_PORT = 5001
TAP_HOST, TAP_GUEST = "192.168.90.1", "192.168.90.2"
SLIRP_ENV = "10.0.2.15/24,10.0.2.2,10.0.2.3"


def run64(script):
    return "arcvm.run64=" + base64.b64encode(script.encode()).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VM:
    """A VMM process whose console (stdout) is watched for markers."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = bytearray()
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            with self.cond:
                self.out += chunk
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, marker, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        with self.cond:
            while marker.encode() not in self.out:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise RuntimeError(f"no {marker!r}: {self.out.decode(errors='replace')[-3000:]}")
                self.cond.wait(1)

    def finish(self, timeout=TIMEOUT):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def vmm_argv(vmm, mode, args, script, fwd_port):
    if vmm == "arcvm":
        net = ["--net"] if mode == "user" else ["--net", f"tap=tap0,ip={TAP_GUEST}/24"]
        if mode == "user" and fwd_port:
            net += ["--publish", f"127.0.0.1:{fwd_port}:{GUEST_PORT}"]
        return [args.arcvm, "run", "--mem", "512M", *net, "--append", run64(script)]
    if mode == "user":
        fwd = f",hostfwd=tcp:127.0.0.1:{fwd_port}-:{GUEST_PORT}" if fwd_port else ""
        netdev = f"user,id=n0{fwd}"
        guest_net = SLIRP_ENV
    else:
        netdev = "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off"
        guest_net = f"{TAP_GUEST}/24,,"
    append = (f"console=ttyS0 panic=-1 quiet arcvm.modules=1 arcvm.net={guest_net} "
              + run64(script))
    return [args.qemu, "-M", "microvm,x-option-roms=off,pit=off,pic=off,rtc=on,isa-serial=on",
            "-enable-kvm", "-cpu", "host", "-m", "512M", "-smp", "1", "-nodefaults",
            "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", args.kernel, "-initrd", args.initrd, "-append", append,
            "-netdev", netdev, "-device", "virtio-net-device,netdev=n0"]


def guest_to_host(vmm, mode, args):
    nbytes = args.mib << 20
    host = "10.0.2.2" if mode == "user" else TAP_HOST
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1" if mode == "user" else TAP_HOST, 0))
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    port = srv.getsockname()[1]
    script = (f"dd if=/dev/zero bs=1M count={args.mib} 2>/dev/null | nc {host} {port}; "
              "echo NET-DONE")
    vm = VM(vmm_argv(vmm, mode, args, script, None))
    try:
        conn, _ = srv.accept()
        got, t0 = 0, None
        with conn:
            while chunk := conn.recv(1 << 20):
                if t0 is None:
                    t0 = time.monotonic()
                got += len(chunk)
        secs = time.monotonic() - t0
        vm.wait_for("NET-DONE")
    finally:
        srv.close()
        vm.finish()
    if got != nbytes:
        raise RuntimeError(f"{vmm} {mode} g2h: {got} of {nbytes} bytes")
    return nbytes / secs / (1 << 20)


def host_to_guest(vmm, mode, args):
    nbytes = args.mib << 20
    fwd = free_port() if mode == "user" else None
    script = (f"(sleep 2; echo NET-LISTENING) & nc -l -p {GUEST_PORT} >/dev/null; "
              "echo NET-DONE")
    vm = VM(vmm_argv(vmm, mode, args, script, fwd))
    buf = b"\0" * (1 << 20)
    try:
        vm.wait_for("NET-LISTENING")
        addr = ("127.0.0.1", fwd) if mode == "user" else (TAP_GUEST, GUEST_PORT)
        with socket.create_connection(addr, timeout=TIMEOUT) as s:
            t0 = time.monotonic()
            for _ in range(args.mib):
                s.sendall(buf)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
            secs = time.monotonic() - t0
        vm.wait_for("NET-DONE")
    finally:
        vm.finish()
    return nbytes / secs / (1 << 20)


def series(fn, vmm, mode, args):
    vals = []
    for _ in range(args.runs):
        vals.append(fn(vmm, mode, args))
        print(f"  {vmm:5} {mode:4} {fn.__name__}: {vals[-1]:.1f} MiB/s", flush=True)
    return vals


def run_mode(mode, args):
    rows = {}
    for fn, name in ((guest_to_host, "guest->host"), (host_to_guest, "host->guest")):
        # Alternate the VMMs run by run so drift hits both alike.
        a, q = [], []
        for _ in range(args.runs):
            a += series(fn, "arcvm", mode, argparse.Namespace(**{**vars(args), "runs": 1}))
            q += series(fn, "qemu", mode, argparse.Namespace(**{**vars(args), "runs": 1}))
        rows[f"{mode} {name}"] = {"arcvm": a, "qemu": q}
    return rows


def tap_in_netns(args):
    """Makes a namespace with tap0 = TAP_HOST/24 and reruns this script in it."""
    ns = "arcvmb" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "tuntap", "add", "dev", "tap0", "mode", "tap", "vnet_hdr"],
                    ["ip", "addr", "add", f"{TAP_HOST}/24", "dev", "tap0"],
                    ["ip", "link", "set", "tap0", "up"]):
            subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True)
        argv = [sys.executable, os.path.abspath(__file__), "--inner-tap",
                "--mib", str(args.mib), "--runs", str(args.runs), "--arcvm", args.arcvm,
                "--qemu", args.qemu, "--kernel", args.kernel, "--initrd", args.initrd]
        r = subprocess.run(["ip", "netns", "exec", ns, *argv], stdout=subprocess.PIPE,
                           check=True, timeout=TIMEOUT * 8)
        lines = r.stdout.decode().splitlines()
        for line in lines[:-1]:
            print(line, flush=True)
        return json.loads(lines[-1])
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def table(rows, args):
    out = [f"TCP stream of {args.mib} MiB, {args.runs} runs per row, medians (MiB/s); "
           "ratio = arcvm / QEMU (higher is better for arcvm)", "",
           "| row | arcvm | QEMU microvm | ratio |", "|---|---:|---:|---:|"]
    for name, v in rows.items():
        a, q = statistics.median(v["arcvm"]), statistics.median(v["qemu"])
        out.append(f"| {name} | {a:.1f} | {q:.1f} | {a / q:.2f} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mib", type=int, default=256)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--arcvm", default=os.path.join(ROOT, "build", "arcvm"))
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--kernel", default=os.path.join(ROOT, "build", "guest", "vmlinux"))
    p.add_argument("--initrd", default=os.path.join(ROOT, "build", "guest", "initrd.cpio.gz"))
    p.add_argument("--out", help="folder for results.json and results.md")
    p.add_argument("--no-tap", action="store_true", help="skip the TAP rows")
    p.add_argument("--inner-tap", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.inner_tap:
        print(json.dumps(run_mode("tap", args)))
        return
    rows = run_mode("user", args)
    if not args.no_tap:
        rows.update(tap_in_netns(args))
    text = table(rows, args)
    print(text)
    if args.out:
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"mib": args.mib, "runs": args.runs, "rows": rows}, f, indent=1)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()

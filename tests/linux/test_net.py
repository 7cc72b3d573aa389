"""virtio-net with Debian's unmodified kernel: user-mode NAT (libslirp) out
and in (--publish), TAP inside a network namespace, and the hostile-guest
rules (no busy-waiting on a guest without receive buffers, oversize frames
dropped and counted). See docs/net.md.

The guest reaches the host's loopback at 10.0.2.2; in the test host that is
the test host's own loopback. Every wait is bounded.
"""
import base64
import hashlib
import http.server
import os
import socket
import threading
import time
import urllib.request
import uuid

import pytest
from conftest import LiveVM, ns

pytestmark = pytest.mark.usefixtures("needs_kvm")
WAIT = int(os.environ.get("ARCVM_TEST_BOOT_TIMEOUT", "300"))


def run64(script):
    return "arcvm.run64=" + base64.b64encode(script.encode()).decode()


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(tmp_path):
    """python's http.server on 127.0.0.1, serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield root, srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_guest_downloads_through_nat(run_arcvm, http_server):
    """arcvm exec --net: the agent configures eth0 (10.0.2.15, DNS 10.0.2.3)
    and the command fetches a file from the host's loopback; its hash
    matches."""
    root, port = http_server
    blob = os.urandom(3 << 20)
    (root / "blob").write_bytes(blob)
    r = run_arcvm("exec", "--net", "--", "sh", "-c",
                  f"cat /etc/resolv.conf; ip -4 addr show eth0 | grep inet; "
                  f"wget -q -O - http://10.0.2.2:{port}/blob | sha256sum")
    assert r.status == 0, str(r)
    assert "nameserver 10.0.2.3" in r.out, str(r)
    assert "inet 10.0.2.15/24" in r.out, str(r)
    assert hashlib.sha256(blob).hexdigest() in r.out, str(r)


def test_dhcp_lease_under_nat(run_arcvm, http_server):
    """--net user,ip=dhcp: the guest is told nothing but "dhcp" (its kernel
    command line says so) and gets address, prefix, default route and DNS
    from slirp's DHCP server through udhcpc, then reaches the host."""
    root, port = http_server
    (root / "hello").write_text("over a leased address\n")
    r = run_arcvm("exec", "--net", "user,ip=dhcp", "--", "sh", "-c",
                  "grep -o 'arcvm.net=[^ ]*' /proc/cmdline; "
                  "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; "
                  "ip route | grep ^default | cut -d' ' -f1-3; cat /etc/resolv.conf; "
                  f"wget -q -O - http://10.0.2.2:{port}/hello")
    assert r.status == 0, str(r)
    assert r.out.splitlines() == ["arcvm.net=dhcp", "inet 10.0.2.15/24", "default via 10.0.2.2",
                                  "nameserver 10.0.2.3", "over a leased address"], r


def test_host_reaches_guest_server_through_publish(live_vms):
    """--publish 127.0.0.1:HOSTPORT:80: a host client gets the page a busybox
    httpd serves in the guest."""
    hp = free_port()
    token = uuid.uuid4().hex
    vm = live_vms("run", "--net", "--publish", f"127.0.0.1:{hp}:80", "--append", run64(
        f"mkdir -p /www && echo {token} >/www/index.html && "
        "httpd -p 80 -h /www && echo GUEST-SERVING && sleep 600"))
    vm.wait_for("GUEST-SERVING")
    deadline = time.monotonic() + 60
    body, last = None, None
    while time.monotonic() < deadline and body is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{hp}/", timeout=10) as resp:
                body = resp.read().decode()
        except OSError as e:
            last = e
            time.sleep(0.5)
    vm.stop()
    assert body is not None, f"no answer through the forward: {last!r}; {vm!r}"
    assert body.strip() == token


def test_oversize_frames_are_dropped_and_counted(run_arcvm):
    """A guest that raises its MTU past what the device allows sends frames
    that are dropped (and counted, reported on exit); normal frames still
    flow. Slirp answers ICMP echo for its gateway 10.0.2.2."""
    r = run_arcvm("run", "--net", "--append", run64(
        "ip link set eth0 mtu 9000\n"
        "ping -c 2 -W 2 -s 8000 10.0.2.2 >/dev/null && echo BIG-PING-ANSWERED\n"
        "ip link set eth0 mtu 1500\n"
        "ping -c 1 -W 10 10.0.2.2 >/dev/null && echo SMALL-PING-OK\n"))
    assert r.status == 0, str(r)
    assert "SMALL-PING-OK" in r.out, str(r)
    assert "BIG-PING-ANSWERED" not in r.out, str(r)
    assert "dropped a 8042-byte oversize frame from the guest" in r.err, str(r)
    assert "2 oversize" in r.err, str(r)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def udp_flood(port, stop):
    """Sends 1000-byte datagrams to 127.0.0.1:port as fast as the host takes
    them, until `stop` is set."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        while not stop.is_set():
            try:
                s.sendto(b"x" * 1000, ("127.0.0.1", port))
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                time.sleep(0.01)


# The guest first pings the gateway, so slirp knows its MAC and the flood
# becomes frames for the device (not only ARP requests), then stops taking
# frames in one of two ways:
#   link-down: `ip link set eth0 down` keeps the driver bound (DRIVER_OK)
#              but stops its NAPI, so the 256 posted receive buffers fill up
#              and none are posted again: the ring is exhausted;
#   unbound:   the driver is unbound, which resets the device.
# On "go" from the host the link-down guest brings eth0 up again and
# reports how many frames it received since: delivery must resume.
NO_RX_GUEST = {
    "link-down": "ip link set eth0 down\n",
    "unbound": "d=/sys/bus/virtio/drivers/virtio_net\n"
               "for dev in $d/virtio*; do echo ${dev##*/} >$d/unbind; done\n"
               "[ -e /sys/class/net/eth0 ] && echo STILL-BOUND\n",
}


@pytest.mark.parametrize("how", sorted(NO_RX_GUEST))
def test_no_receive_buffers_no_spin(live_vms, how):
    """While the guest takes no frames and the host floods a published UDP
    port, the VMM holds what it cannot deliver instead of polling: its CPU
    time (utime + stime from /proc/PID/stat) over 5 s stays under half a
    CPU, a generous bound for a behaviour check (a spinning I/O thread
    takes a whole one), not a speed claim. The link-down guest then
    receives again."""
    hp = free_port(socket.SOCK_DGRAM)
    vm = live_vms("run", "--net", "--publish", f"127.0.0.1:{hp}:9/udp", "--append", run64(
        "ping -c 1 -W 10 10.0.2.2 >/dev/null && echo GUEST-PINGED\n"
        + NO_RX_GUEST[how] +
        "echo GUEST-DEAF\n"
        "read go\n"
        "a=$(cat /sys/class/net/eth0/statistics/rx_packets)\n"
        "ip link set eth0 up\n"
        "sleep 5\n"
        "b=$(cat /sys/class/net/eth0/statistics/rx_packets)\n"
        "echo RX-AFTER-UP=$((b - a)) END-RX\n"
        "sleep 600\n"))
    vm.wait_for("GUEST-DEAF")
    assert "GUEST-PINGED" in vm.out and "STILL-BOUND" not in vm.out, str(vm)
    stop = threading.Event()
    flood = threading.Thread(target=udp_flood, args=(hp, stop), daemon=True)
    flood.start()
    try:
        time.sleep(2)       # the ring fills and frames are held first
        c0, w0 = cpu_seconds(vm.proc.pid), time.monotonic()
        time.sleep(5)
        c1, w1 = cpu_seconds(vm.proc.pid), time.monotonic()
        alive = vm.proc.poll() is None
        if how == "link-down":
            vm.send("go\n")
            vm.wait_for("END-RX")
    finally:
        stop.set()
        flood.join(10)
        vm.stop()
    assert alive, str(vm)
    share = (c1 - c0) / (w1 - w0)
    assert share < 0.5, f"arcvm used {share:.0%} of a CPU while the guest took no frames"
    if how == "link-down":
        got = int(vm.out.split("RX-AFTER-UP=")[1].split()[0])
        # The ring's 256 buffers were full; the flood goes on after them.
        assert got > 256, str(vm)


def test_tap_ping_both_ways_multiqueue(arcvm, netns):
    """Over a multiqueue TAP device in a fresh namespace, with 2 vCPUs (two
    queue pairs): the guest pings the host side and the host pings the
    guest."""
    for cmd in (["ip", "tuntap", "add", "dev", "tap0", "mode", "tap", "vnet_hdr",
                 "multi_queue"],
                ["ip", "addr", "add", "192.168.77.1/24", "dev", "tap0"],
                ["ip", "link", "set", "tap0", "up"], ["ip", "link", "set", "lo", "up"]):
        r = ns(netns, *cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    # `ip netns exec` execs arcvm in the namespace, so the process is arcvm's.
    vm = LiveVM("ip", "netns", "exec", netns, arcvm, "run", "--cpus", "2",
                "--net", "tap=tap0,ip=192.168.77.2/24", "--append", run64(
                    "echo QUEUES $(ls /sys/class/net/eth0/queues)\n"
                    "ping -c 3 -W 10 192.168.77.1 >/dev/null && echo GUEST-PING-OK\n"
                    "echo GUEST-WAITING && sleep 600\n"))
    try:
        vm.wait_for("GUEST-WAITING")
        assert "GUEST-PING-OK" in vm.out, str(vm)
        assert "rx-1" in vm.out and "tx-1" in vm.out, vm   # two queue pairs
        r = ns(netns, "busybox", "ping", "-c", "3", "-W", "10", "192.168.77.2")
        assert r.returncode == 0, (r.stdout, r.stderr, vm)
    finally:
        vm.stop()


def test_bad_net_options_are_usage_errors(run_arcvm):
    for args, needle in ((["--net", "tap="], "--net"),
                         (["--net", "user,ip=10.0.2.15"], "ip"),
                         (["--publish", "80"], "--publish"),
                         (["--publish", "70000:80"], "--publish"),
                         (["--net", "tap=t0", "--publish", "8080:80"], "user-mode")):
        r = run_arcvm("run", *args, timeout=30)
        assert r.status == 2, (args, r)
        assert needle in r.err, (args, r)

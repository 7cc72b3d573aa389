"""`arcvm api` on the host, without a Linux boot: Firecracker's paths,
bodies and status codes, strict JSON, the pre-/post-start rules, and a
server that slow, broken or oversized requests cannot wedge. Where a VM must
run, a tiny ELF guest (guest.S) stands in for the kernel (--allow-pvm)."""
import json
import os
import select
import socket
import subprocess
import time


from conftest import ARCVM, GUEST, TIMEOUT


def fault(resp):
    status, body = resp
    assert status == 400, resp
    return body["fault_message"]


def boot_tiny(a):
    assert a.put("/boot-source", {"kernel_image_path": str(GUEST),
                                  "boot_args": "console=ttyS0"})[0] == 204


def start_tiny(api, *args):
    a = api("--allow-pvm", *args)
    boot_tiny(a)
    assert a.put("/actions", {"action_type": "InstanceStart"}) == (204, None)
    a.wait_stdout("arcvm-api-guest ready")
    return a


def raw_exchange(path, data, timeout=TIMEOUT):
    """Sends bytes on a fresh connection and reads until the server closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    if data:
        s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def test_instance_info_and_version(api):
    a = api("--id", "test_vm_1")
    status, info = a.get("/")
    assert status == 200
    assert info == {"id": "test_vm_1", "state": "Not started", "vmm_version": info["vmm_version"],
                    "app_name": "arcvm"}
    assert info["vmm_version"]
    status, v = a.get("/version")
    assert status == 200 and v["firecracker_version"].count(".") == 2


def test_machine_config_round_trip(api):
    a = api()
    status, m = a.get("/machine-config")
    assert status == 200 and (m["vcpu_count"], m["mem_size_mib"]) == (1, 128)
    assert a.put("/machine-config", {"vcpu_count": 2, "mem_size_mib": 256,
                                     "track_dirty_pages": True}) == (204, None)
    assert a.patch("/machine-config", {"mem_size_mib": 512}) == (204, None)
    m = a.get("/machine-config")[1]
    assert (m["vcpu_count"], m["mem_size_mib"], m["smt"], m["track_dirty_pages"]) == \
        (2, 512, False, True)
    # PUT replaces the whole object: what it leaves out takes its default.
    assert a.put("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}) == (204, None)
    m = a.get("/machine-config")[1]
    assert (m["vcpu_count"], m["mem_size_mib"], m["track_dirty_pages"]) == (1, 64, False)
    assert "mem_size_mib" in fault(a.put("/machine-config", {"vcpu_count": 1}))
    assert "vcpu_count" in fault(a.put("/machine-config", {"vcpu_count": 0, "mem_size_mib": 64}))
    assert "smt" in fault(a.patch("/machine-config", {"smt": True}))
    assert "cpu_template" in fault(a.patch("/machine-config", {"cpu_template": "T2"}))
    assert a.get("/vm/config")[1]["machine-config"]["mem_size_mib"] == 64


def test_malformed_unknown_and_mistyped_bodies(api):
    a = api()
    assert "malformed JSON" in fault(a.request("PUT", "/machine-config", raw=b'{"vcpu_count": 2'))
    assert "malformed JSON" in fault(a.request("PUT", "/machine-config", raw=b'{} trailing'))
    assert "JSON body" in fault(a.request("PUT", "/machine-config", raw=b""))
    assert "expected a JSON object" in fault(a.put("/machine-config", [1, 2]))
    msg = fault(a.put("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64, "vcpus": 2}))
    assert "unknown field 'vcpus'" in msg
    assert "'vcpu_count' must be a whole number" in fault(
        a.put("/machine-config", {"vcpu_count": "2", "mem_size_mib": 64}))
    assert "'vcpu_count' must be a whole number" in fault(
        a.put("/machine-config", {"vcpu_count": 1.5, "mem_size_mib": 64}))
    assert "given twice" in fault(a.request(
        "PUT", "/machine-config", raw=b'{"vcpu_count": 1, "vcpu_count": 2, "mem_size_mib": 64}'))
    assert "'is_root_device'" in fault(a.put("/drives/d1", {"drive_id": "d1",
                                                          "path_on_host": "/x"}))
    assert "differs" in fault(a.put("/drives/d1", {"drive_id": "d2", "path_on_host": "/x",
                                                  "is_root_device": False}))
    assert "action_type" in fault(a.put("/actions", {"action_type": "Reboot"}))
    assert "state" in fault(a.patch("/vm", {"state": "Stopped"}))
    assert "rate_limiter" in fault(a.put("/entropy", {"rate_limiter": {"bandwidth": {}}}))
    # Nothing was changed by the refused requests.
    assert a.get("/machine-config")[1]["vcpu_count"] == 1


def test_unknown_paths_and_methods(api):
    a = api()
    assert a.get("/nothing-here")[0] == 404
    assert a.get("/drives")[0] == 404           # a drive needs its id
    assert a.get("/drives/a/b")[0] == 404
    status, body = a.get("/actions")
    assert status == 405 and "GET" in body["fault_message"]
    assert a.request("DELETE", "/")[0] == 405
    assert a.request("POST", "/machine-config", {"vcpu_count": 1})[0] == 405
    assert a.patch("/boot-source", {"kernel_image_path": "/x"})[0] == 405
    assert a.get("/machine-config/")[0] == 200  # a trailing slash names the same thing
    assert a.get("/?x=1")[0] == 200             # the query string is not part of the path


def net(iface, dev, **extra):
    return {"iface_id": iface, "host_dev_name": dev, **extra}


def test_network_interfaces_configured_and_shown(api):
    """PUT /network-interfaces adds TAP and user-mode interfaces in order; a
    second PUT of the same id replaces it in place; GET /vm/config shows
    them in Firecracker's shape."""
    a = api()
    assert a.put("/network-interfaces/eth0", net("eth0", "tap0")) == (204, None)
    assert a.put("/network-interfaces/nat", net("nat", "arcvm:user",
                                                guest_mac="06:00:AC:10:00:02")) == (204, None)
    assert a.put("/network-interfaces/eth0", net("eth0", "tap7", rx_rate_limiter=None,
                                                 tx_rate_limiter={"bandwidth": None,
                                                                  "ops": None})) == (204, None)
    assert a.get("/vm/config")[1]["network-interfaces"] == [
        {"iface_id": "eth0", "host_dev_name": "tap7"},
        {"iface_id": "nat", "host_dev_name": "arcvm:user", "guest_mac": "06:00:ac:10:00:02"}]


def test_network_interface_bodies_refused_clearly(api):
    a = api()
    cases = [
        (net("eth0", "tap0", rx_rate_limiter={"bandwidth": {"size": 1000, "refill_time": 100}}),
         "rx_rate_limiter: rate limiting is not supported"),
        (net("eth0", "tap0", tx_rate_limiter={"ops": {"size": 10, "refill_time": 100}}),
         "tx_rate_limiter: rate limiting is not supported"),
        (net("eth0", "tap0", rx_rate_limiter=5), "rate limiting is not supported"),
        (net("eth0", "tap0", guest_mac="01:00:5e:00:00:01"), "multicast"),
        (net("eth0", "tap0", guest_mac="06:00:ac:10:00"), "not a MAC address"),
        (net("eth0", "tap0", guest_mac="06:00:ac:10:00:0g"), "not a MAC address"),
        (net("eth0", "tap0", guest_mac=6), "'guest_mac' must be a string"),
        (net("eth0", "a-very-long-tap-name"), "neither a TAP device name"),
        (net("eth0", "tap/0"), "neither a TAP device name"),
        (net("eth0", "user:"), "neither a TAP device name"),
        (net("eth0", "tap 0"), "neither a TAP device name"),
        (net("eth0", ""), "neither a TAP device name"),
        (net("eth1", "tap0"), "differs from the one in the path"),
        ({"iface_id": "eth0"}, "missing required field 'host_dev_name'"),
        (net("eth0", "tap0", mtu=1500), "unknown field 'mtu'"),
    ]
    for body, expected in cases:
        msg = fault(a.put("/network-interfaces/eth0", body))
        assert expected in msg, (body, msg)
    assert a.get("/vm/config")[1]["network-interfaces"] == []

    # Two interfaces cannot share a TAP device or a MAC; at most four.
    assert a.put("/network-interfaces/a", net("a", "tap0", guest_mac="06:00:00:00:00:01")) \
        == (204, None)
    assert "already uses host device tap0" in fault(a.put("/network-interfaces/b",
                                                          net("b", "tap0")))
    assert "already has that guest_mac" in fault(a.put(
        "/network-interfaces/b", net("b", "tap1", guest_mac="06:00:00:00:00:01")))
    for i in "bcd":
        assert a.put(f"/network-interfaces/{i}", net(i, "arcvm:user")) == (204, None)
    assert "too many network interfaces (at most 4)" in fault(
        a.put("/network-interfaces/e", net("e", "tap9")))
    # Replacing one of the four is not adding a fifth.
    assert a.put("/network-interfaces/d", net("d", "tap9")) == (204, None)
    assert len(a.get("/vm/config")[1]["network-interfaces"]) == 4


def test_user_mode_interface_starts_and_refuses_changes_after(api, needs_kvm, tmp_path):
    """A user-mode NAT interface needs no root or host setup, so the tiny
    guest starts with one; afterwards the interface cannot be changed
    (Firecracker's 400), and a snapshot is refused because virtio-net has no
    saved state yet."""
    a = api("--allow-pvm")
    boot_tiny(a)
    assert a.put("/network-interfaces/eth0", net("eth0", "arcvm:user")) == (204, None)
    assert a.put("/actions", {"action_type": "InstanceStart"}) == (204, None)
    a.wait_stdout("arcvm-api-guest ready")
    msg = fault(a.put("/network-interfaces/eth0", net("eth0", "arcvm:user")))
    assert "network interface is only allowed before the microVM starts (it is Running)" in msg
    assert "only allowed before" in fault(a.put("/network-interfaces/eth1", net("eth1", "tap1")))
    assert a.patch("/vm", {"state": "Paused"}) == (204, None)
    msg = fault(a.put("/snapshot/create", {"snapshot_type": "Full",
                                           "snapshot_path": str(tmp_path / "s"),
                                           "mem_file_path": str(tmp_path / "m")}))
    assert "network interfaces" in msg
    assert a.get("/vm/config")[1]["network-interfaces"] == [
        {"iface_id": "eth0", "host_dev_name": "arcvm:user"}]
    assert a.stop() == 7


def test_oversized_body_refused_and_server_carries_on(api):
    a = api()
    big = b'{"vcpu_count": 1, "pad": "' + b"x" * (70 << 10) + b'"}'
    out = raw_exchange(a.sock, b"PUT /machine-config HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(big) + big)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert b"larger than the limit" in out
    # Chunked, without a length up front: refused as it grows.
    chunk = b"%x\r\n%s\r\n" % (40 << 10, b"y" * (40 << 10))
    out = raw_exchange(a.sock, b"PUT /machine-config HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n" + chunk + chunk)
    assert out.startswith(b"HTTP/1.1 400") and b"larger than the limit" in out
    assert a.get("/")[0] == 200


def test_half_request_does_not_wedge_the_server(api):
    a = api("--request-timeout", "700")
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.settimeout(TIMEOUT)
    slow.connect(str(a.sock))
    slow.sendall(b"PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"vc")
    # Others are served while it dawdles.
    assert a.get("/")[0] == 200
    assert a.put("/machine-config", {"vcpu_count": 2, "mem_size_mib": 64}) == (204, None)
    # Then it is answered and dropped once its time is up.
    out = b""
    while True:
        chunk = slow.recv(4096)
        if not chunk:
            break
        out += chunk
    slow.close()
    assert out.startswith(b"HTTP/1.1 400") and b"did not arrive in time" in out
    # A client that sends half a request line and hangs up changes nothing.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(a.sock))
    s.sendall(b"PUT /machine-con")
    s.close()
    assert a.get("/machine-config")[1]["vcpu_count"] == 2


def test_garbage_and_pipelined_requests(api):
    a = api()
    out = raw_exchange(a.sock, b"\x16\x03\x01 not http at all\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    out = raw_exchange(a.sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 2 and b"firecracker_version" in out
    out = raw_exchange(a.sock, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400") and b"URL" in out
    assert a.get("/")[0] == 200


def test_post_start_requests_refused_before_start(api, tmp_path):
    a = api()
    for resp in (a.patch("/vm", {"state": "Paused"}),
                 a.patch("/drives/d1", {"drive_id": "d1", "path_on_host": "/x"}),
                 a.put("/actions", {"action_type": "SendCtrlAltDel"}),
                 a.put("/snapshot/create", {"snapshot_path": str(tmp_path / "s"),
                                            "mem_file_path": str(tmp_path / "m")})):
        assert "only allowed after the microVM started" in fault(resp)
    assert "boot source" in fault(a.put("/actions", {"action_type": "InstanceStart"}))
    assert a.state() == "Not started"


def test_start_pause_resume_and_pre_start_requests_refused_after(api, needs_kvm, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * (1 << 20))
    a = api("--allow-pvm")
    boot_tiny(a)
    assert a.put("/drives/disk1", {"drive_id": "disk1", "path_on_host": str(img),
                                   "is_root_device": False, "is_read_only": False}) == (204, None)
    assert a.put("/entropy", {}) == (204, None)
    assert "guest_cid" in fault(a.put("/vsock", {"guest_cid": 2, "uds_path": "/x"}))
    assert a.put("/vsock", {"guest_cid": 3, "uds_path": str(tmp_path / "v.sock")}) == (204, None)
    assert a.put("/actions", {"action_type": "InstanceStart"}) == (204, None)
    a.wait_stdout("arcvm-api-guest ready")
    assert a.state() == "Running"
    cfg = a.get("/vm/config")[1]
    assert cfg["vsock"] == {"guest_cid": 3, "uds_path": str(tmp_path / "v.sock")}
    assert cfg["entropy"] == {} and cfg["drives"][0]["drive_id"] == "disk1"
    assert (tmp_path / "v.sock").exists()    # the vsock device listens for the host
    for resp in (a.put("/boot-source", {"kernel_image_path": str(GUEST)}),
                 a.put("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}),
                 a.patch("/machine-config", {"vcpu_count": 2}),
                 a.put("/drives/disk2", {"drive_id": "disk2", "path_on_host": str(img),
                                         "is_root_device": False}),
                 a.put("/vsock", {"guest_cid": 3, "uds_path": str(tmp_path / "v.sock")}),
                 a.put("/entropy", {}),
                 a.put("/network-interfaces/eth0", {"iface_id": "eth0", "host_dev_name": "t"}),
                 a.put("/actions", {"action_type": "InstanceStart"}),
                 a.put("/snapshot/load", {"snapshot_path": "/x", "mem_file_path": "/y"})):
        assert "only allowed before the microVM starts" in fault(resp)
    assert a.patch("/vm", {"state": "Paused"}) == (204, None)
    assert a.state() == "Paused"
    assert a.patch("/vm", {"state": "Paused"}) == (204, None)   # already paused: no change
    assert "paused microVM" not in a.stderr()
    assert a.patch("/vm", {"state": "Resumed"}) == (204, None)
    assert a.state() == "Running"
    # The keys wait in the i8042's output buffer; this guest never reads it,
    # so a second Ctrl+Alt+Del does not fit and is refused.
    assert a.put("/actions", {"action_type": "SendCtrlAltDel"}) == (204, None)
    assert "not reading" in fault(a.put("/actions", {"action_type": "SendCtrlAltDel"}))
    assert a.state() == "Running"
    assert a.stop() == 7
    assert not a.sock.exists()


def test_snapshot_create_needs_a_paused_vm(api, needs_kvm, tmp_path):
    a = start_tiny(api)
    body = {"snapshot_type": "Full", "snapshot_path": str(tmp_path / "s"),
            "mem_file_path": str(tmp_path / "m")}
    assert "paused" in fault(a.put("/snapshot/create", body))
    assert a.patch("/vm", {"state": "Paused"}) == (204, None)
    diff = dict(body, snapshot_type="Diff")
    assert "track_dirty_pages" in fault(a.put("/snapshot/create", diff))
    assert "snapshot_type" in fault(a.put("/snapshot/create", dict(body, snapshot_type="Half")))


def test_drive_patch_swaps_the_backing_file(api, needs_kvm, tmp_path):
    first, second = tmp_path / "a.img", tmp_path / "b.img"
    first.write_bytes(b"\0" * (1 << 20))
    second.write_bytes(b"\0" * (2 << 20))
    a = api("--allow-pvm")
    boot_tiny(a)
    assert a.put("/drives/scratch", {"drive_id": "scratch", "path_on_host": str(first),
                                     "is_root_device": False,
                                     "cache_type": "Writeback"}) == (204, None)
    assert "cannot read" in fault(a.put("/boot-source", {"kernel_image_path": "/nonexistent"}))
    assert a.put("/actions", {"action_type": "InstanceStart"}) == (204, None)
    assert a.patch("/drives/scratch", {"drive_id": "scratch",
                                       "path_on_host": str(second)}) == (204, None)
    drives = a.get("/vm/config")[1]["drives"]
    assert drives == [{"drive_id": "scratch", "path_on_host": str(second), "is_root_device": False,
                       "is_read_only": False, "cache_type": "Writeback", "io_engine": "Sync"}]
    assert "No such file" in fault(a.patch("/drives/scratch", {
        "drive_id": "scratch", "path_on_host": str(tmp_path / "missing.img")}))
    assert "no drive 'other'" in fault(a.patch("/drives/other", {
        "drive_id": "other", "path_on_host": str(second)}))
    assert "nothing to change" in fault(a.patch("/drives/scratch", {"drive_id": "scratch"}))
    assert a.get("/vm/config")[1]["drives"][0]["path_on_host"] == str(second)


def test_logger_and_metrics(api, tmp_path):
    log, metrics = tmp_path / "fc.log", tmp_path / "fc.metrics"
    a = api()
    assert "not configured" in fault(a.put("/actions", {"action_type": "FlushMetrics"}))
    assert a.put("/logger", {"log_path": str(log), "level": "Debug", "show_level": True,
                             "show_log_origin": True}) == (204, None)
    assert "already configured" in fault(a.put("/logger", {"log_path": str(log)}))
    assert "level" in fault(a.put("/metrics", {"metrics_path": str(metrics), "level": "x"}))
    assert a.put("/metrics", {"metrics_path": str(metrics)}) == (204, None)
    assert a.get("/nope")[0] == 404
    assert a.put("/actions", {"action_type": "FlushMetrics"}) == (204, None)
    assert a.put("/actions", {"action_type": "FlushMetrics"}) == (204, None)
    lines = metrics.read_text().splitlines()
    assert len(lines) == 2
    m = json.loads(lines[1])
    assert m["state"] == "Not started" and m["utc_time_ms"] > 0
    assert m["api_server"]["requests"] >= 7 and m["api_server"]["errors"] >= 4
    assert m["vmm"]["metrics_flushes"] == 2
    text = log.read_text()
    assert ":WARN:api] GET /nope: 404" in text
    assert ":DEBUG:api] PUT /metrics: 204" in text


def test_curl_getting_started_form(api, tmp_path):
    """The exact shape of Firecracker's getting-started curl calls."""
    a = api()
    kernel = tmp_path / "vmlinux"
    kernel.write_bytes(b"not started, only configured")
    r = subprocess.run(["curl", "--unix-socket", str(a.sock), "-i", "-X", "PUT",
                        "http://localhost/boot-source", "-H", "Accept: application/json",
                        "-H", "Content-Type: application/json", "-d",
                        json.dumps({"kernel_image_path": str(kernel),
                                    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off"})],
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert r.stdout.startswith(b"HTTP/1.1 204"), r.stdout
    r = subprocess.run(["curl", "-s", "--unix-socket", str(a.sock), "http://localhost/vm/config"],
                       capture_output=True, timeout=TIMEOUT)
    cfg = json.loads(r.stdout)
    assert cfg["boot-source"]["kernel_image_path"] == str(kernel)
    assert cfg["boot-source"]["boot_args"] == "console=ttyS0 reboot=k panic=1 pci=off"


def test_socket_in_use_and_bad_options(api, tmp_path):
    a = api()
    r = subprocess.run([ARCVM, "api", "--socket", str(a.sock)], capture_output=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and b"already exists" in r.stderr
    r = subprocess.run([ARCVM, "api"], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 2 and b"--socket" in r.stderr
    assert a.get("/")[0] == 200


def write_config(tmp_path, **sections):
    path = tmp_path / "vm_config.json"
    path.write_text(json.dumps(sections))
    return path


def test_config_file_starts_the_vm(api, needs_kvm, tmp_path):
    cfg = write_config(tmp_path, **{
        "boot-source": {"kernel_image_path": str(GUEST), "boot_args": "console=ttyS0"},
        "drives": [],
        "machine-config": {"vcpu_count": 2, "mem_size_mib": 64},
        "entropy": {},
        "metrics": {"metrics_path": str(tmp_path / "m.json")},
        "network-interfaces": [{"iface_id": "nat0", "host_dev_name": "arcvm:user"}],
    })
    a = api("--allow-pvm", "--config-file", str(cfg))
    a.wait_stdout("arcvm-api-guest ready")
    assert a.state() == "Running"
    c = a.get("/vm/config")[1]
    assert c["machine-config"]["vcpu_count"] == 2 and c["entropy"] == {}
    assert c["network-interfaces"] == [{"iface_id": "nat0", "host_dev_name": "arcvm:user"}]
    assert c["metrics"]["metrics_path"] == str(tmp_path / "m.json")
    # arcvm run --config-file boots the same file without an API.
    p = subprocess.Popen([ARCVM, "run", "--config-file", str(cfg), "--allow-pvm"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        while b"\n" not in out and time.monotonic() < deadline:
            if select.select([p.stdout], [], [], 0.5)[0]:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                out += chunk
    finally:
        p.kill()
        p.wait(timeout=TIMEOUT)
    assert out == b"arcvm-api-guest ready\n"


def test_config_file_track_dirty_pages_allows_diff_snapshots(api, needs_kvm, tmp_path):
    """machine-config's track_dirty_pages in Firecracker's config file reaches
    the VM: a Diff snapshot on top of a Full one succeeds; a value that is not
    a boolean is refused naming the key."""
    cfg = write_config(tmp_path, **{
        "boot-source": {"kernel_image_path": str(GUEST), "boot_args": "console=ttyS0"},
        "machine-config": {"vcpu_count": 1, "mem_size_mib": 32, "track_dirty_pages": True},
    })
    a = api("--allow-pvm", "--config-file", str(cfg))
    a.wait_stdout("arcvm-api-guest ready")
    assert a.get("/vm/config")[1]["machine-config"]["track_dirty_pages"] is True
    for args in ([], ["--diff"]):
        snap = tmp_path / ("diff" if args else "full")
        r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(a.sock), *args,
                            str(snap)], capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, r
        assert (snap / "state").stat().st_size > 0
    assert a.state() == "Running"
    cfg = write_config(tmp_path, **{
        "boot-source": {"kernel_image_path": str(GUEST)},
        "machine-config": {"vcpu_count": 1, "mem_size_mib": 32, "track_dirty_pages": "yes"},
    })
    r = subprocess.run([ARCVM, "run", "--config-file", str(cfg)], capture_output=True,
                       timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r
    assert b"machine-config" in r.stderr and b"track_dirty_pages" in r.stderr, r.stderr


def test_config_file_errors_name_the_section(tmp_path):
    cases = [
        ({"boot-source": {"kernel_image_path": str(GUEST)}, "balloon": {"amount_mib": 1}},
         "balloon"),
        ({"boot-source": {"kernel_image_path": str(GUEST)}, "cpu-config": {}},
         "unknown section 'cpu-config'"),
        ({"machine-config": {"vcpu_count": 1, "mem_size_mib": 64}}, "'boot-source'"),
        ({"boot-source": {"kernel_image_path": str(GUEST)},
          "drives": [{"drive_id": "r", "is_root_device": True, "path_on_host": "/nonexistent"}]},
         "drives: cannot read and write drive file /nonexistent"),
        ({"boot-source": {"kernel_image_path": str(GUEST)},
          "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap/0"}]},
         "network-interfaces: network-interface: host_dev_name 'tap/0' is neither"),
    ]
    for sections, expected in cases:
        cfg = write_config(tmp_path, **sections)
        r = subprocess.run([ARCVM, "run", "--config-file", str(cfg)], capture_output=True,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        assert r.returncode == 2, (sections, r)
        assert expected.encode() in r.stderr, (expected, r.stderr)
    r = subprocess.run([ARCVM, "run", "--config-file", str(cfg), "--mem", "1G"],
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 2 and b"cannot be combined" in r.stderr


def test_snapshot_client_resumes_after_a_refusal(api, needs_kvm, tmp_path):
    """arcvm snapshot create pauses a running VM and resumes it whatever the
    snapshot's outcome; a VM that never started is refused up front."""
    idle = api(name="idle")
    r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(idle.sock),
                        str(tmp_path / "snap0")], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 1 and b"Not started" in r.stderr
    a = start_tiny(api)
    r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(a.sock), "--diff",
                        str(tmp_path / "snap1")], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 1 and b"track_dirty_pages" in r.stderr, r
    assert (tmp_path / "snap1").is_dir()
    assert a.state() == "Running"
    r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(tmp_path / "none.sock"),
                        str(tmp_path / "snap2")], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 1 and b"cannot connect" in r.stderr


def test_snapshot_create_and_load_in_a_new_process(api, needs_kvm, tmp_path):
    disk, other = tmp_path / "disk.img", tmp_path / "other.img"
    disk.write_bytes(b"\0" * (1 << 20))
    other.write_bytes(b"\0" * (1 << 20))
    a = api("--allow-pvm", name="first")
    boot_tiny(a)
    assert a.put("/machine-config", {"vcpu_count": 1, "mem_size_mib": 32,
                                     "track_dirty_pages": True}) == (204, None)
    assert a.put("/drives/data", {"drive_id": "data", "path_on_host": str(disk),
                                  "is_root_device": False}) == (204, None)
    assert a.put("/actions", {"action_type": "InstanceStart"}) == (204, None)
    a.wait_stdout("arcvm-api-guest ready")
    snap = tmp_path / "snap"
    r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(a.sock), str(snap)],
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    # RAM followed by the memory file's 4 KiB trailer (docs/snapshot.md).
    assert (snap / "state").stat().st_size > 0
    assert (snap / "memory").stat().st_size == (32 << 20) + 4096
    assert a.state() == "Running"
    r = subprocess.run([ARCVM, "snapshot", "create", "--socket", str(a.sock), "--diff",
                        "--keep-paused", str(snap / "diff1")], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert a.state() == "Paused"
    assert a.stop() == 7

    b = api("--allow-pvm", name="second")
    assert "exactly one" in fault(b.put("/snapshot/load", {"snapshot_path": str(snap / "state")}))
    assert "Uffd" in fault(b.put("/snapshot/load", {
        "snapshot_path": str(snap / "state"),
        "mem_backend": {"backend_type": "Uffd", "backend_path": "/x"}}))
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a snapshot" * 100)
    assert fault(b.put("/snapshot/load", {"snapshot_path": str(garbage),
                                          "mem_file_path": str(snap / "memory")}))
    assert b.state() == "Not started"
    assert b.put("/snapshot/load", {
        "snapshot_path": str(snap / "state"),
        "mem_backend": {"backend_type": "File", "backend_path": str(snap / "memory")},
        "resume_vm": True}) == (204, None)
    assert b.state() == "Running"
    # The controller now sees the snapshot's machine and drives.
    cfg = b.get("/vm/config")[1]
    assert cfg["machine-config"]["mem_size_mib"] == 32
    assert cfg["machine-config"]["track_dirty_pages"] is True
    assert [(d["drive_id"], d["path_on_host"]) for d in cfg["drives"]] == [("data", str(disk))]
    assert b.patch("/drives/data", {"drive_id": "data", "path_on_host": str(other)}) == (204, None)
    assert "only allowed before" in fault(b.put("/snapshot/load", {
        "snapshot_path": str(snap / "state"), "mem_file_path": str(snap / "memory")}))
    assert b.patch("/vm", {"state": "Paused"}) == (204, None)
    assert b.patch("/vm", {"state": "Resumed"}) == (204, None)
    # Without resume_vm (and the older mem_file_path) the VM waits, paused.
    c = api("--allow-pvm", name="third")
    assert c.put("/snapshot/load", {"snapshot_path": str(snap / "state"),
                                    "mem_file_path": str(snap / "memory")}) == (204, None)
    assert c.state() == "Paused"


def test_expect_100_continue(api):
    """curl asks for a 100 before a body over 1 KiB; the server gives it
    once the headers are in, then answers the request."""
    a = api()
    body = json.dumps({"vcpu_count": 3, "mem_size_mib": 64}).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(str(a.sock))
    s.sendall(b"PUT /machine-config HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    assert s.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(body)
    assert s.recv(4096).startswith(b"HTTP/1.1 204")
    s.close()
    assert a.get("/machine-config")[1]["vcpu_count"] == 3


def test_connection_limit(api):
    """Idle connections hold their slots; one past the limit is answered 503
    and closed, and the slots come back when the idle ones go."""
    a = api()
    idle = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(str(a.sock))
        idle.append(s)
    # A request on the last idle one is answered: it holds a slot.
    idle[-1].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle[-1].recv(4096).startswith(b"HTTP/1.1 200")
    # The server may answer before this client sends anything: only read.
    out = raw_exchange(a.sock, b"")
    assert out.startswith(b"HTTP/1.1 503") and b"too many connections" in out
    for s in idle:
        s.close()
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            out = raw_exchange(a.sock, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        except OSError as e:    # refused with a 503 before the request was sent
            out = repr(e).encode()
        if out.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert out.startswith(b"HTTP/1.1 200"), out

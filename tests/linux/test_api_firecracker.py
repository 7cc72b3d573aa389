"""arcvm api driven like Firecracker, end to end with Debian's kernel: the
getting-started curl sequence (boot source, root drive, machine config,
InstanceStart), the guest on the API process's console, pause and resume,
a drive swapped under the running guest (which sees the new capacity), a
snapshot through `arcvm snapshot create`, and a second `arcvm api` that
loads it and carries on where the guest was."""
import base64
import json
import subprocess
import time

from conftest import GUEST, LiveVM, ns

TIMEOUT = 60


def curl(sock, method, path, body=None):
    """Firecracker's getting-started form: curl --unix-socket ... -i -X PUT."""
    cmd = ["curl", "--unix-socket", str(sock), "-s", "-i", "-X", method,
           f"http://localhost{path}", "-H", "Accept: application/json"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, str(r)
    head, sep, text = r.stdout.partition(b"\r\n\r\n")
    assert sep, r.stdout
    return int(head.split()[1]), json.loads(text) if text else None


def wait_socket(vm, sock):
    deadline = time.monotonic() + TIMEOUT
    while not sock.exists():
        assert vm.proc.poll() is None and time.monotonic() < deadline, str(vm)
        time.sleep(0.05)


def test_getting_started_pause_drive_swap_snapshot_and_load(needs_kvm, arcvm, live_vms,
                                                             root_copy, tmp_path):
    first_sock, second_sock = tmp_path / "fc1.socket", tmp_path / "fc2.socket"
    small, big = tmp_path / "small.img", tmp_path / "big.img"
    small.write_bytes(b"\0" * (1 << 20))
    with open(big, "wb") as f:
        f.truncate(2 << 20)
        f.seek(1 << 20)
        f.write(b"SECOND-IMAGE")

    vm = live_vms("api", "--socket", first_sock)
    wait_socket(vm, first_sock)
    assert curl(first_sock, "PUT", "/boot-source", {
        "kernel_image_path": str(GUEST / "vmlinux"),
        "initrd_path": str(GUEST / "initrd.cpio.gz"),
        "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet arcvm.shell=1"}) == (204, None)
    assert curl(first_sock, "PUT", "/drives/rootfs", {
        "drive_id": "rootfs", "path_on_host": str(root_copy),
        "is_root_device": True, "is_read_only": False}) == (204, None)
    assert curl(first_sock, "PUT", "/drives/scratch", {
        "drive_id": "scratch", "path_on_host": str(small),
        "is_root_device": False, "is_read_only": True}) == (204, None)
    assert curl(first_sock, "PUT", "/machine-config",
                {"vcpu_count": 1, "mem_size_mib": 256}) == (204, None)
    assert curl(first_sock, "PUT", "/actions", {"action_type": "InstanceStart"}) == (204, None)
    vm.wait_for("ARCVM-INIT-READY")
    vm.send("echo UP-$((6*7))\n")
    vm.wait_for("UP-42")

    assert curl(first_sock, "PATCH", "/vm", {"state": "Paused"}) == (204, None)
    assert curl(first_sock, "GET", "/")[1]["state"] == "Paused"
    assert curl(first_sock, "PATCH", "/vm", {"state": "Resumed"}) == (204, None)
    vm.send("echo RESUMED-$((7*7))\n")
    vm.wait_for("RESUMED-49")

    # The guest learns the new size from the config-change interrupt.
    assert curl(first_sock, "PATCH", "/drives/scratch",
                {"drive_id": "scratch", "path_on_host": str(big)}) == (204, None)
    vm.send("for i in 1 2 3 4 5 6 7 8 9 10; do s=$(cat /sys/block/vdb/size);"
            " [ $s = 4096 ] && break; sleep 1; done; echo VDB-SECTORS-$s-$((2+2))\n")
    vm.wait_for("VDB-SECTORS-4096-4")

    snap = tmp_path / "snap"
    r = subprocess.run([str(arcvm), "snapshot", "create", "--socket", str(first_sock),
                        "--keep-paused", str(snap)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, str(r)
    assert curl(first_sock, "GET", "/")[1]["state"] == "Paused"
    vm.proc.terminate()              # the restored VM takes over the disk images
    assert vm.wait() == 7, str(vm)

    restored = live_vms("api", "--socket", second_sock)
    wait_socket(restored, second_sock)
    assert curl(second_sock, "PUT", "/snapshot/load", {
        "snapshot_path": str(snap / "state"),
        "mem_backend": {"backend_path": str(snap / "memory"), "backend_type": "File"},
        "enable_diff_snapshots": False, "resume_vm": True}) == (204, None)
    assert curl(second_sock, "GET", "/")[1]["state"] == "Running"
    # The same shell, with the swapped image behind /dev/vdb.
    restored.send("echo RESTORED-$((8*8)); dd if=/dev/vdb bs=512 skip=2048 count=1"
                  " 2>/dev/null | head -c 12; echo\n")
    restored.wait_for("RESTORED-64")
    restored.wait_for("SECOND-IMAGE")
    restored.send("exit\n")
    assert restored.wait() == 0, str(restored)


def test_send_ctrl_alt_del_reboots_the_guest(needs_kvm, live_vms, tmp_path):
    """SendCtrlAltDel types the keys on the guest's PS/2 keyboard: Debian's
    i8042 and atkbd drivers (built in) bind to arcvm's controller, and since
    the initramfs's init does not take Ctrl+Alt+Del over, the kernel restarts
    at once; with reboot=k that is the i8042 reset line, so the VM, and the
    API process with it, ends with the reboot status (3)."""
    sock = tmp_path / "fc.socket"
    vm = live_vms("api", "--socket", sock)
    wait_socket(vm, sock)
    assert curl(sock, "PUT", "/boot-source", {
        "kernel_image_path": str(GUEST / "vmlinux"),
        "initrd_path": str(GUEST / "initrd.cpio.gz"),
        "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet arcvm.shell=1"}) == (204, None)
    assert curl(sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 256}) == \
        (204, None)
    assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"}) == (204, None)
    vm.wait_for("ARCVM-INIT-READY")
    vm.send("echo KBD-$(grep -c 'i8042/serio0' /proc/bus/input/devices)-FOUND\n")
    vm.wait_for("KBD-1-FOUND")
    assert curl(sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"}) == (204, None)
    assert vm.wait() == 3, str(vm)


def test_api_boots_with_a_tap_interface_and_pings(needs_kvm, arcvm, netns, tmp_path):
    """PUT /network-interfaces with a TAP device (Firecracker's form: iface_id,
    host_dev_name, guest_mac) in a namespace of the test's own: the guest
    gets its address from boot_args, sees the MAC it was given, and guest
    and host ping each other."""
    for cmd in (["ip", "tuntap", "add", "dev", "fctap0", "mode", "tap", "vnet_hdr"],
                ["ip", "addr", "add", "192.168.78.1/24", "dev", "fctap0"],
                ["ip", "link", "set", "fctap0", "up"], ["ip", "link", "set", "lo", "up"]):
        r = ns(netns, *cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    script = ("cat /sys/class/net/eth0/address\n"
              "ping -c 3 -W 10 192.168.78.1 >/dev/null && echo GUEST-PING-OK\n"
              "echo GUEST-WAITING && sleep 600\n")
    sock = tmp_path / "fc.socket"
    vm = LiveVM("ip", "netns", "exec", netns, arcvm, "api", "--socket", sock)
    try:
        wait_socket(vm, sock)
        assert curl(sock, "PUT", "/boot-source", {
            "kernel_image_path": str(GUEST / "vmlinux"),
            "initrd_path": str(GUEST / "initrd.cpio.gz"),
            "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet arcvm.net=192.168.78.2/24"
                         " arcvm.run64=" + base64.b64encode(script.encode()).decode()}) \
            == (204, None)
        assert curl(sock, "PUT", "/network-interfaces/eth0", {
            "iface_id": "eth0", "host_dev_name": "fctap0",
            "guest_mac": "06:00:c0:a8:4e:02"}) == (204, None)
        assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"}) == (204, None)
        vm.wait_for("GUEST-WAITING")
        assert "06:00:c0:a8:4e:02" in vm.out, str(vm)
        assert "GUEST-PING-OK" in vm.out, str(vm)
        r = ns(netns, "busybox", "ping", "-c", "3", "-W", "10", "192.168.78.2")
        assert r.returncode == 0, (r.stdout, r.stderr, vm)
        status, body = curl(sock, "PUT", "/network-interfaces/eth1", {
            "iface_id": "eth1", "host_dev_name": "fctap1"})
        assert status == 400 and "only allowed before the microVM starts" in \
            body["fault_message"], body
    finally:
        vm.stop()

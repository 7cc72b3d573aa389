"""virtio-blk with Debian's unmodified kernel: booting from an ext4 root
image, data that survives a poweroff and a SIGKILL after sync, read-only
drives, two drives at once, the lock against a second writer, and bad
--drive options. The host checks images with e2fsprogs (e2fsck, debugfs)."""
import base64
import hashlib
import os
import shutil
import signal
import subprocess

import pytest

SEQ_LINES = 20000
SEQ_TEXT = "".join(f"{i}\n" for i in range(1, SEQ_LINES + 1))


def tool(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert path, f"{name} not found (install e2fsprogs)"
    return path


def host(*cmd, timeout=120):
    return subprocess.run([tool(cmd[0]), *map(str, cmd[1:])], capture_output=True, text=True,
                          timeout=timeout)


def fsck_clean(img):
    r = host("e2fsck", "-fn", img)
    assert r.returncode == 0, f"e2fsck -fn {img}: status {r.returncode}\n{r.stdout}{r.stderr}"


def debugfs_cat(img, path):
    r = host("debugfs", "-R", f"cat {path}", img)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run64(script):
    return "arcvm.run64=" + base64.b64encode(script.encode()).decode()


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_root_image_boot_write_poweroff_and_lock(needs_kvm, live_vms, run_arcvm, root_copy):
    """Boots from the ext4 image, writes files and syncs; while the VM runs a
    second arcvm is refused the image; after a poweroff the image is clean
    and holds the files."""
    vm = live_vms("run", "--root", root_copy, "--append", "arcvm.shell=1")
    # Typed-ahead input can be lost while the console passes from the
    # initramfs through switch_root to the disk's shell: type once the
    # disk's init is up, as a person at a terminal would.
    vm.wait_for("ARCVM-INIT-READY")
    # $((...)) makes the marker differ from the console's echo of the input.
    vm.send("mount\n"
            "mkdir -p /d/e && echo nested >/d/e/f && seq 1 %d >/seq.txt && sync"
            " && echo SYNCED-$((6*7))\n" % SEQ_LINES)
    vm.wait_for("SYNCED-42")

    for spec in (f"path={root_copy}", f"path={root_copy},ro"):
        second = run_arcvm("run", "--drive", spec, "--append", "arcvm.run=true", timeout=60)
        assert second.status == 1, str(second)
        assert str(root_copy) in second.err and "in use" in second.err, str(second)
        assert "arcvm-guest" not in second.out, str(second)

    vm.send("exit\n")
    assert vm.wait() == 0, str(vm)
    assert "arcvm-guest: kernel" in vm.out and "ARCVM-INIT-READY" in vm.out, str(vm)
    assert "/dev/vda on / type ext4 (rw" in vm.out, str(vm)
    fsck_clean(root_copy)
    assert debugfs_cat(root_copy, "/seq.txt") == SEQ_TEXT
    assert debugfs_cat(root_copy, "/d/e/f") == "nested\n"


def test_sigkill_after_sync_keeps_data(needs_kvm, live_vms, root_copy):
    """The guest writes, syncs and says so; arcvm is then SIGKILLed. The
    journal replay a mount would do (e2fsck -fy) finds the file whole."""
    vm = live_vms("run", "--root", root_copy, "--append", run64(
        f"seq 1 {SEQ_LINES} >/killed.txt && sync && echo SYNCED-$((6*7)) && sleep 3600"))
    vm.wait_for("SYNCED-42")
    vm.proc.send_signal(signal.SIGKILL)
    assert vm.wait() == -signal.SIGKILL, str(vm)
    r = host("e2fsck", "-fy", root_copy)
    # 0: clean, 1: the journal was replayed or something was fixed.
    assert r.returncode in (0, 1), f"e2fsck -fy: status {r.returncode}\n{r.stdout}{r.stderr}"
    fsck_clean(root_copy)
    assert debugfs_cat(root_copy, "/killed.txt") == SEQ_TEXT


def test_read_only_root(needs_kvm, run_arcvm, root_copy):
    before = digest(root_copy)
    r = run_arcvm("run", "--drive", f"path={root_copy},ro,root=1", "--append", run64(
        "mount; echo x >/new.txt; echo WRITE=$?; echo t >/tmp/t && echo TMP-OK"))
    assert r.status == 0, str(r)
    assert "/dev/vda on / type ext4 (ro" in r.out, str(r)
    assert "WRITE=" in r.out and "WRITE=0" not in r.out, str(r)
    assert "Read-only file system" in r.out and "TMP-OK" in r.out, str(r)
    assert digest(root_copy) == before


def test_root_that_cannot_be_mounted_panics(needs_kvm, run_arcvm, tmp_path):
    """A root drive without a filesystem ends the boot the way the kernel's
    own "cannot mount root" does: a message naming the device, then a panic,
    instead of running on the initramfs."""
    img = tmp_path / "blank.img"
    img.write_bytes(bytes(8 << 20))
    r = run_arcvm("run", "--root", img, "--append", "arcvm.run=echo+on+the+wrong+root")
    assert r.status == 5, str(r)
    assert "cannot use root /dev/vda: mount failed" in r.out, str(r)
    assert "on the wrong root" not in r.out, str(r)


def make_ext4(img, files, size="8M"):
    src = img.parent / (img.name + ".d")
    src.mkdir()
    for name, text in files.items():
        (src / name).write_text(text)
    r = host("mke2fs", "-q", "-F", "-t", "ext4", "-d", src, img, size)
    assert r.returncode == 0, r.stderr


def test_two_drives_and_a_read_only_one(needs_kvm, run_arcvm, tmp_path):
    """vda: a raw writable image; vdb: a read-only ext4 image. Both read as
    prepared; the guest writes vda; every write to vdb fails and the file
    keeps its bytes and mtime."""
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    a.write_bytes(b"drive-a:" + bytes(range(256)) * 16 + bytes(4 << 20))
    make_ext4(b, {"hello.txt": "drive-b contents\n"})
    b_before = digest(b)
    r = run_arcvm("run", "--drive", f"path={a}", "--drive", f"path={b},ro", "--append", run64(
        "mkdir -p /mnt\n"
        "echo A=$(head -c 8 /dev/vda)\n"
        "echo RO=$(blockdev --getro /dev/vdb) RW=$(blockdev --getro /dev/vda)\n"
        "mount -o ro /dev/vdb /mnt && echo B=$(cat /mnt/hello.txt)\n"
        "mount -o remount,rw /mnt\n"
        "grep ' /mnt ' /proc/mounts\n"
        "echo x >/mnt/new.txt; echo WRITE-B=$?\n"
        "umount /mnt\n"
        "dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct; echo DD-B=$?\n"
        "printf written-to-a | dd of=/dev/vda bs=512 seek=16 conv=sync,notrunc oflag=direct"
        " && sync && echo DD-A=$?\n"))
    assert r.status == 0, str(r)
    assert "A=drive-a:" in r.out, str(r)
    assert "RO=1 RW=0" in r.out, str(r)
    assert "B=drive-b contents" in r.out, str(r)
    assert "/dev/vdb /mnt ext4 ro," in r.out, str(r)
    for failed in ("WRITE-B", "DD-B"):
        assert f"{failed}=0" not in r.out and f"{failed}=" in r.out, str(r)
    assert "DD-A=0" in r.out, str(r)
    assert digest(b) == b_before
    fsck_clean(b)
    data = a.read_bytes()
    assert data[:8] == b"drive-a:" and data[8:8 + 4096] == bytes(range(256)) * 16
    assert data[8192:8192 + 512] == b"written-to-a" + bytes(500)


def test_same_image_twice_in_one_vm_is_refused(run_arcvm, root_copy):
    r = run_arcvm("run", "--drive", f"path={root_copy}", "--root", root_copy, "--allow-pvm",
                  timeout=60)
    assert r.status == 1, str(r)
    assert str(root_copy) in r.err and "in use" in r.err, str(r)


@pytest.mark.parametrize("spec,needle", [
    ("path=IMG,bogus=1", '"bogus"'),
    ("path=IMG,cache=none", "cache"),
    ("path=IMG,root=2", "root"),
    ("path=IMG,ro=1", "ro takes no value"),
    ("path=IMG,id=", "id"),
    ("path=IMG,id=abcdefghijklmnopqrstu", "id"),
    ("path=IMG,path=IMG", "path given twice"),
    ("path=", "path is empty"),
    ("ro", "path is missing"),
    ("path=IMG,,ro", "empty item"),
])
def test_bad_drive_options_are_usage_errors(run_arcvm, tmp_path, spec, needle):
    img = tmp_path / "img"
    img.write_bytes(bytes(1 << 20))
    r = run_arcvm("run", "--drive", spec.replace("IMG", str(img)), timeout=30)
    assert r.status == 2, str(r)
    assert "--drive" in r.err and needle in r.err, str(r)
    assert img.read_bytes() == bytes(1 << 20)

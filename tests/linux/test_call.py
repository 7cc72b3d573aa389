"""arcvm call end to end: an IonPack built with the Python package runs in a
fresh micro-VM (Debian's kernel, arcvm-init linking libion), its arguments go
in as --arg literals and its result comes back printed or through --out.

Each test boots its own VM. Files live under tmp_path only (in the test host
the build tree is read-only).
"""
import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from conftest import BOOT_TIMEOUT, ROOT

sys.path.insert(0, str(ROOT / "python"))
from ionvm import Function, Instruction as I, IonPackBuilder, Value  # noqa: E402

pytestmark = pytest.mark.usefixtures("needs_kvm", "guest")


def pack(tmp_path, fn, name="t"):
    b = IonPackBuilder(name, "1.0.0")
    b.add_class("Main", fn)
    b.main_class("Main")
    b.entry_point(fn.name)
    path = tmp_path / f"{name}.ionpack"
    with open(path, "wb") as f:
        b.build(f, for_call=True)
    return path


@pytest.fixture
def call(run_arcvm):
    def run(*args, timeout=None):
        kw = {"timeout": timeout} if timeout else {}
        return run_arcvm("call", *args, **kw)
    return run


# Every copyable kind, written as --arg and printed back the same way
# (the canonical literal form, docs/ionvm-call.md).
KINDS = [
    "nil", "true", "false", "42", "-0", "0.1", "-1e+300", "nan", "-inf",
    '""', '"caf\u00e9 \\x00\\xff\\n"', "ok", "'an atom'", "1+2i", "0-1.5i",
    "{}", "{1, ok, \"s\"}", "[]", "[1, [2, [3]], {}]",
    "#{}", "#{x: 1, y: 2}", "#Point{x: 1.5, tags: [ok, nil], z: 1-2i}",
    "#{ro/e: 1, hidden/w: 2, none/: 3, \"odd key\": 4}",
]


def test_every_kind_round_trips(call, tmp_path):
    """One function of len(KINDS) arguments returns them as one tuple: each
    went in and came out unchanged, in one boot."""
    n = len(KINDS)
    fn = Function(name="main", arity=n, extra_regs=1, instructions=[
        I.new_tuple(n, 0, n), I.return_reg(n)])
    args = [a for k in KINDS for a in ("--arg", k)]
    r = call(pack(tmp_path, fn), *args)
    assert r.status == 0, str(r)
    assert r.out == "{" + ", ".join(KINDS) + "}\n", str(r)


def test_build_in_the_vm_and_bring_the_binary_back(call, tmp_path):
    """The issue's example: a shared source folder with a Makefile and a C
    file; the function runs make there with system() and returns
    read_file() of the binary, which --out writes on the host, where it
    runs. The guest borrows the host's toolchain: the host's / is shared
    read-only and the build runs chrooted into it, with the source folder
    (shared read-write) mounted at the same path inside."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello.c").write_text(
        '#include <stdio.h>\nint main(void) { puts("built in a micro-VM"); return 7; }\n')
    (src / "Makefile").write_text("app: hello.c\n\tcc -O2 -o app hello.c\n"
                                  "clean:\n\trm -f app\n")
    inner = "/h" + str(src)
    fn = Function(name="build", arity=2, extra_regs=5, instructions=[
        I.load_const(2, Value.native("io.system")),
        I.move(3, 0),
        I.call(4, 2, 3, 1),                     # R4 = system(cmd) = {status, output}
        I.load_int(5, 0),
        I.get_index(6, 4, 5),                   # R6 = status
        I.jump_eq(6, 5, "built"),
        I.load_const(2, Value.native("io.print")),
        I.move(3, 4),
        I.call(2, 2, 3, 1),                     # print {status, output}
        I.error(4),                             # and raise it
        I.label("built"),
        I.load_const(2, Value.native("io.read_file")),
        I.move(3, 1),
        I.call(4, 2, 3, 1),                     # R4 = read_file(path)
        I.return_reg(4)])
    out = tmp_path / "app_release"
    # Inside the chroot: programs named by path, since busybox's chroot runs
    # a bare "sh" as its own applet through /proc/self/exe, which in the
    # shared host / is the VMM's; and the compiler's temporary files in the
    # writable source folder (the chroot's /tmp is the read-only share).
    cmd = (f"chroot /h /usr/bin/env PATH=/usr/bin TMPDIR={src} /usr/bin/make -C {src} clean app"
           " 2>&1")
    r = call("--mem", "1G", "--share", "/:/h:ro", "--share", f"{src}:{inner}:rw",
             pack(tmp_path, fn), "--arg", '"' + cmd.replace('"', '\\"') + '"',
             "--arg", f'"{inner}/app"', "--out", out)
    assert r.status == 0, str(r)
    assert r.out == "", str(r)
    assert (src / "app").exists()             # built in the shared folder
    os.chmod(out, os.stat(out).st_mode | stat.S_IXUSR)
    p = subprocess.run([str(out)], capture_output=True, timeout=30)
    assert p.returncode == 7 and p.stdout == b"built in a micro-VM\n", str(p)
    assert out.read_bytes() == (src / "app").read_bytes()


def test_guest_error_comes_back_with_its_stack_trace(call, tmp_path):
    inner = Function(name="inner", arity=1, extra_regs=0, instructions=[I.error(0)])
    main = Function(name="main", arity=1, extra_regs=2, instructions=[
        I.load_const(1, Value.function("inner", class_name="Main")),
        I.call(2, 1, 0, 1), I.return_reg(2)])
    b = IonPackBuilder("err", "1.0.0")
    b.add_class("Main", main, inner)
    b.main_class("Main")
    b.entry_point("main")
    path = tmp_path / "err.ionpack"
    with open(path, "wb") as f:
        b.build(f, for_call=True)
    r = call(path, "--arg", "{boom, \"from the guest\"}")
    assert r.status == 1, str(r)
    assert "raised an error in the guest" in r.err, str(r)
    assert "boom" in r.err and "from the guest" in r.err, str(r)
    assert "Main.inner" in r.err and "Main.main" in r.err, r   # the guest-side trace


def test_guest_error_text_cannot_drive_the_terminal(call, tmp_path):
    """The guest's error and trace are its words: an escape sequence in them
    reaches stderr defused, never as an ESC byte."""
    fn = Function(name="main", arity=1, extra_regs=0, instructions=[I.error(0)])
    r = call(pack(tmp_path, fn), "--arg", '"clear\\x1b[2J\\x07bell"')
    assert r.status == 1, str(r)
    assert "raised an error in the guest" in r.err and "clear" in r.err, str(r)
    assert "\x1b" not in r.err and "\x07" not in r.err, str(r)


def test_refused_calls(call, tmp_path):
    """Status 2: wrong arity, a function as the result, --out of a non-string."""
    fn = Function(name="main", arity=1, extra_regs=0, instructions=[I.return_reg(0)])
    p = pack(tmp_path, fn)
    r = call(p, "--arg", "1", "--arg", "2")
    assert r.status == 2 and "takes 1 arguments, 2 given" in r.err, str(r)
    r = call(p, "--arg", "[1, 2]", "--out", tmp_path / "x")
    assert r.status == 2 and "--out needs a string" in r.err and "[1, 2]" in r.err, str(r)
    assert not (tmp_path / "x").exists()
    fref = Function(name="main", arity=0, extra_regs=1, instructions=[
        I.load_const(0, Value.native("io.print")), I.return_reg(0)])
    r = call(pack(tmp_path, fref, "fref"))
    assert r.status == 2 and "function cannot be copied out" in r.err, str(r)


def test_output_of_the_function_is_relayed(call, tmp_path):
    fn = Function(name="main", arity=1, extra_regs=2, instructions=[
        I.load_const(1, Value.native("io.print")), I.call(2, 1, 0, 1),
        I.load_const(2, Value.number(42)), I.return_reg(2)])
    r = call(pack(tmp_path, fn), "--arg", '"hello from the guest"')
    assert r.status == 0, str(r)
    assert r.out == "hello from the guest\n42\n", str(r)


def test_timeout(call, tmp_path):
    """A function that never returns: --timeout stops the VM, status 124."""
    fn = Function(name="main", arity=0, extra_regs=1, instructions=[
        I.label("loop"), I.jump("loop")])
    r = call("--timeout", "5", pack(tmp_path, fn))
    assert r.status == 124, str(r)
    assert "did not finish within 5 s" in r.err, str(r)


def test_call_from_snapshot(call, guest, tmp_path):
    """--from-snapshot: a snapshot of the agent's guest (taken once the agent
    listens) serves calls, twice, with the snapshot's share; the call reads
    and writes there."""
    from conftest import BOOT_TIMEOUT, BUILD
    share = tmp_path / "share"
    share.mkdir()
    (share / "in.txt").write_text("from the host")
    snap = tmp_path / "snap"
    cmdline = ("console=ttyS0 reboot=k panic=-1 pci=off quiet arcvm.agent=1 arcvm.modules=1 "
               "rdinit=/sbin/arcvm-init arcvm.share=t0:/data quiet")
    cmd = [BUILD / "tests" / "snapshot" / "snapctl", "--kernel", guest / "vmlinux",
           "--initrd", guest / "initrd.cpio.gz", "--cmdline", cmdline, "--mem", "256M", "--rng",
           "--timeout", str(BOOT_TIMEOUT), "--vsock", tmp_path / "agent.sock",
           "--share", f"{share}:t0", "--vsock-ready", "1024", "--snapshot", snap]
    r = subprocess.run(list(map(str, cmd)), capture_output=True, timeout=2 * BOOT_TIMEOUT)
    assert r.returncode == 0, str(r)
    fn = Function(name="main", arity=1, extra_regs=4, instructions=[
        I.load_const(1, Value.native("io.read_file")), I.load_const(2, "/data/in.txt"),
        I.call(4, 1, 2, 1),                              # R4 = read_file("/data/in.txt")
        I.load_const(1, Value.native("io.write_file")), I.load_const(2, "/data/out.txt"),
        I.move(3, 0), I.call(1, 1, 2, 2),                # write_file("/data/out.txt", arg)
        I.return_reg(4)])
    p = pack(tmp_path, fn)
    for i in range(2):
        r = call("--from-snapshot", snap, p, "--arg", f'"run {i}"')
        assert r.status == 0, str(r)
        assert r.out == '"from the host"\n', str(r)
        assert (share / "out.txt").read_text() == f"run {i}"


def test_arcvm_call_from_c(guest, tmp_path):
    """arcvm_call() in the library (examples/call.c): boot, call with
    arguments, print the result; a guest error comes back as one."""
    from conftest import BOOT_TIMEOUT, BUILD
    fn = Function(name="main", arity=2, extra_regs=1, instructions=[
        I.new_tuple(2, 0, 2), I.return_reg(2)])
    example = [str(BUILD / "examples" / "call"), str(guest / "vmlinux"),
               str(guest / "initrd.cpio.gz"), str(pack(tmp_path, fn))]
    r = subprocess.run(example + ["#P{x/e: 1-2i}", '"\\x00bytes"'], capture_output=True,
                       timeout=BOOT_TIMEOUT)
    assert r.returncode == 0, str(r)
    assert r.stdout == b'{#P{x/e: 1-2i}, "\\x00bytes"}\n', str(r)
    r = subprocess.run(example + ["1"], capture_output=True, timeout=BOOT_TIMEOUT)
    assert r.returncode == 1, str(r)
    assert b"takes 2 arguments, 1 given" in r.stderr, str(r)


def test_shared_memory_in_place(call, tmp_path):
    """shm.shared() is the VM's --shared-mem region as an IonVM buffer: the
    function sums bytes the host put there (one every 4099, so every page
    is touched), writes a marker string and a last byte, and returns
    {size, sum, bytes written}; the host sees exactly those writes in the
    file and nothing else changed."""
    size = 2 << 20
    region = tmp_path / "region"
    data = os.urandom(size)
    region.write_bytes(data)
    marker = b"written by IonVM"
    fn = Function(name="main", arity=0, extra_regs=10, instructions=[
        I.load_const(9, Value.native("shm.shared")),
        I.call(0, 9, 0, 0),                     # R0 = shm.shared()
        I.len(1, 0),                            # R1 = its size
        I.load_int(2, 0),                       # R2 = sum
        I.load_int(3, 0),                       # R3 = offset
        I.load_int(4, 4099),
        I.label("loop"),
        I.get_index(5, 0, 3),
        I.add(2, 2, 5),
        I.add(3, 3, 4),
        I.jump_lt(3, 1, "loop"),
        I.load_const(9, Value.native("buf.write")),
        I.move(5, 0),
        I.load_int(6, 100),
        I.load_const(7, marker.decode()),
        I.call(3, 9, 5, 3),                     # R3 = buf.write(R0, 100, marker)
        I.add_imm(6, 1, -1),
        I.load_int(7, 90),
        I.set_index(0, 6, 7),                   # R0[size - 1] = 90
        I.new_tuple(5, 1, 3),
        I.return_reg(5)])
    r = call("--shared-mem", f"{size},path={region}", pack(tmp_path, fn))
    assert r.status == 0, str(r)
    assert r.out == f"{{{size}, {sum(data[::4099])}, {len(marker)}}}\n", str(r)
    want = bytearray(data)
    want[100:100 + len(marker)] = marker
    want[-1] = 90
    assert region.read_bytes() == bytes(want)


def test_shared_memory_errors(call, tmp_path):
    """Without --shared-mem, shm.shared() raises and says how to get one; a
    buffer cannot be the result (it would copy the region)."""
    fn = Function(name="main", arity=0, extra_regs=1, instructions=[
        I.load_const(0, Value.native("shm.shared")), I.call(0, 0, 0, 0), I.return_reg(0)])
    p = pack(tmp_path, fn)
    r = call(p)
    assert r.status == 1, str(r)
    assert "no shared memory: start the VM with --shared-mem" in r.err, str(r)
    r = call("--shared-mem", "1M", p)
    assert r.status == 2 and "a buffer cannot be copied out of the VM" in r.err, str(r)


def test_shared_memory_doorbell(arcvm, tmp_path):
    """shm.wait and shm.ring against a host program on the doorbell
    (docs/shared-memory.md, "The doorbell"): the function waits for the
    host's ring (latched if it comes first), rings back, then waits 0 s with
    nobody ringing; it returns {true, true, false}."""
    region = tmp_path / "region"
    region.write_bytes(b"")
    os.truncate(region, 1 << 20)
    bells = tmp_path / "region.bell"
    fn = Function(name="main", arity=0, extra_regs=6, instructions=[
        I.load_const(0, Value.native("shm.wait")), I.load_int(1, 120), I.call(3, 0, 1, 1),
        I.load_const(0, Value.native("shm.ring")), I.call(4, 0, 0, 0),
        I.load_const(0, Value.native("shm.wait")), I.load_int(1, 0), I.call(5, 0, 1, 1),
        I.new_tuple(0, 3, 3), I.return_reg(0)])
    p = subprocess.Popen([str(arcvm), "call", "--shared-mem", f"1M,path={region}",
                          str(pack(tmp_path, fn))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    host = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        # The relay's socket exists before the VM boots.
        deadline = time.monotonic() + 60
        while not (bells.is_dir() and len(os.listdir(bells)) == 1):
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "arcvm call never bound its doorbell socket"
            time.sleep(0.1)
        relay = bells / os.listdir(bells)[0]
        host.bind(str(bells / "host"))
        host.sendto(b"R", str(relay))
        host.settimeout(BOOT_TIMEOUT)
        assert host.recv(16) == b"R"          # the guest's ring came back to us
        out, err = p.communicate(timeout=BOOT_TIMEOUT)
    finally:
        host.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (out, err)
    assert out.decode() == "{true, true, false}\n", (out, err)

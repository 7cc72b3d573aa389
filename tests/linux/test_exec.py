"""arcvm exec end to end: a command in a fresh micro-VM with Debian's kernel,
the guest agent (arcvm-init) over virtio-vsock and host folders over virtio-9p.

Each test boots its own VM. Files live under tmp_path only (in the test host
the build tree is read-only).
"""
import calendar
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import struct
import subprocess
import termios
import time

import pytest

pytestmark = pytest.mark.usefixtures("needs_kvm")
PTY_TIMEOUT = int(os.environ.get("ARCVM_TEST_BOOT_TIMEOUT", "300"))


@pytest.fixture
def exec_(run_arcvm):
    def run(*args, stdin=b""):
        return run_arcvm("exec", *args, stdin=stdin)
    return run


@pytest.mark.parametrize("script,status", [("true", 0), ("false", 1), ("exit 42", 42),
                                           ("kill -9 $$", 137), ("kill -TERM $$", 143)])
def test_exit_status(exec_, script, status):
    r = exec_("--", "sh", "-c", script)
    assert r.status == status, str(r)


def test_command_not_found_is_127(exec_):
    r = exec_("--", "/no/such/program")
    assert r.status == 127, str(r)
    assert "/no/such/program" in r.err


def test_stdout_and_stderr_separate_and_in_order(exec_):
    r = exec_("--", "sh", "-c", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done")
    assert r.status == 0, str(r)
    assert r.out == "".join(f"out{i}\n" for i in range(1, 6)), str(r)
    lines = [l for l in r.err.splitlines() if l.startswith("err")]
    assert lines == [f"err{i}" for i in range(1, 6)], str(r)


def test_ten_megabytes_through_a_pipe(exec_):
    size = 10 * 1024 * 1024
    r = exec_("--", "sh", "-c", f"yes 0123456789abcdefghijklmnopqrstu | head -c {size}")
    assert r.status == 0, r.err
    want = (b"0123456789abcdefghijklmnopqrstu\n" * (size // 32 + 1))[:size]
    got = r.out.encode()
    assert len(got) == size
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()


def test_stdin_forwarded_with_eof(exec_):
    r = exec_("--", "cat", stdin=b"hi\n")
    assert r.status == 0, str(r)
    assert r.out == "hi\n"
    data = os.urandom(1 << 20)
    r = exec_("--", "sha256sum", stdin=data)
    assert r.status == 0, str(r)
    assert r.out.split()[0] == hashlib.sha256(data).hexdigest()


def test_env_workdir_user(exec_):
    r = exec_("--env", "FOO=bar baz", "--env", "HOME=/nowhere", "--workdir", "/tmp",
              "--user", "1000:1001", "--", "sh", "-c", 'echo "$FOO|$HOME"; pwd; id -u; id -g')
    assert r.status == 0, str(r)
    assert r.out == "bar baz|/nowhere\n/tmp\n1000\n1001\n", str(r)


def test_timeout_kills_the_command(exec_):
    r = exec_("--timeout", "5", "--", "sleep", "1000")
    assert r.status == 124, str(r)
    assert "did not finish within 5 s" in r.err


def test_copy_out(exec_, tmp_path):
    dest = tmp_path / "numbers.txt"
    r = exec_("--copy-out", "/tmp/numbers.txt:" + str(dest), "--",
              "sh", "-c", "seq 1 200000 > /tmp/numbers.txt")
    assert r.status == 0, str(r)
    assert dest.read_text() == "".join(f"{i}\n" for i in range(1, 200001))
    assert [p.name for p in tmp_path.iterdir()] == ["numbers.txt"]   # no temporary left


def test_copy_out_missing_file_fails_without_a_file(exec_, tmp_path):
    dest = tmp_path / "nothing"
    r = exec_("--copy-out", "/tmp/absent:" + str(dest), "--", "true")
    assert r.status == 125, str(r)
    assert "/tmp/absent" in r.err
    assert list(tmp_path.iterdir()) == []


def test_share_read_write(exec_, tmp_path):
    box = tmp_path / "box"
    box.mkdir()
    (box / "in.txt").write_text("from the host\n")
    r = exec_("--share", f"{box}:/box", "--", "sh", "-c",
              "cat /box/in.txt; echo from the guest > /box/out.txt; mkdir /box/d;"
              " echo deep > /box/d/f; mv /box/d/f /box/d/g; rm /box/in.txt")
    assert r.status == 0, str(r)
    assert r.out == "from the host\n"
    assert (box / "out.txt").read_text() == "from the guest\n"
    assert (box / "d" / "g").read_text() == "deep\n"
    assert not (box / "in.txt").exists()


def test_read_only_share_refuses_writes(exec_, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("keep\n")
    attempts = ["echo x > /ro/new", "echo x >> /ro/keep.txt", "rm /ro/keep.txt", "mkdir /ro/d",
                "mv /ro/keep.txt /ro/moved", "ln -s x /ro/link", "touch /ro/keep.txt",
                "chmod 777 /ro/keep.txt"]
    script = "; ".join(f"if {a} 2>/dev/null; then echo WROTE: {a}; fi" for a in attempts)
    # A hostile guest remounts the share read-write first: the refusal must
    # come from arcvm's 9p server, not only from the guest's mount flags.
    script = "mount -o remount,rw /ro 2>/dev/null; " + script
    r = exec_("--share", f"{ro}:/ro:ro", "--", "sh", "-c", script + "; cat /ro/keep.txt")
    assert r.status == 0, str(r)
    assert "WROTE" not in r.out, str(r)
    assert r.out.endswith("keep\n")
    assert sorted(p.name for p in ro.iterdir()) == ["keep.txt"]
    assert (ro / "keep.txt").read_text() == "keep\n"


def test_escape_attempts_stay_inside_the_share(exec_, tmp_path):
    """`..` at the root, a symlink to / planted by the guest, a host symlink
    pointing out, and a symlink swapped in during walks: none of them may show
    the host file beside the share, or create a file outside it."""
    box = tmp_path / "box"
    box.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST-SECRET\n")
    os.symlink(str(secret), box / "hostlink")
    os.symlink("../secret.txt", box / "uplink")
    rel = os.path.relpath(secret, "/")
    script = f"""
cat /box/../secret.txt /box/../../secret.txt /box/hostlink /box/uplink 2>/dev/null
ln -s / /box/root
cat /box/root/{rel} /box/root/../secret.txt 2>/dev/null
echo planted > /box/root/escaped 2>/dev/null
cd /box && cat ../secret.txt ../../{rel} 2>/dev/null
mkdir -p /box/d/sub
i=0
while [ $i -lt 300 ]; do
  mv /box/d /box/d.real 2>/dev/null; ln -s / /box/d 2>/dev/null
  rm -f /box/d; mv /box/d.real /box/d 2>/dev/null
  i=$((i+1))
done &
j=0
while [ $j -lt 300 ]; do
  cat /box/d/{rel} /box/d/sub/../../secret.txt 2>/dev/null
  ls /box/d/ 2>/dev/null | grep -q secret && echo LISTED-SECRET
  j=$((j+1))
done
wait
echo done
"""
    r = exec_("--share", f"{box}:/box", "--", "sh", "-c", script)
    assert r.status == 0, str(r)
    assert "HOST-SECRET" not in r.out, str(r)
    assert "LISTED-SECRET" not in r.out, str(r)
    assert r.out.endswith("done\n"), str(r)
    assert not (tmp_path / "escaped").exists()
    assert not os.path.exists("/escaped")
    assert secret.read_text() == "HOST-SECRET\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["box", "secret.txt"]


PROGRAM = {
    "main.c": '#include <stdio.h>\n#include "greet.h"\n#include "sum.h"\n'
              'int main(void) { greet("arcvm"); printf("sum=%d\\n", sum_to(100)); return 0; }\n',
    "greet.c": '#include <stdio.h>\n#include "greet.h"\n'
               'void greet(const char *who) { printf("hello from %s\\n", who); }\n',
    "greet.h": "void greet(const char *who);\n",
    "sum.c": '#include "sum.h"\nint sum_to(int n) { int s = 0; for (int i = 1; i <= n; i++) s += i; return s; }\n',
    "sum.h": "int sum_to(int n);\n",
    "Makefile": "app: main.o greet.o sum.o\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -O2 -c $<\n",
}


def test_build_a_c_program_from_a_share(exec_, tmp_path):
    """The guest has no compiler of its own, so the host's /usr (gcc, make,
    binutils, libc headers) is shared read-only at /usr; the sources are a
    read-write share and the binary the guest builds lands on the host.
    Debian's merged /usr needs /lib64 and /lib/x86_64-linux-gnu (where the
    dynamic loader's absolute link points) in the guest's own root."""
    if not shutil.which("gcc") or not shutil.which("make"):
        pytest.skip("gcc and make are needed on the host (shared into the guest)")
    src = tmp_path / "src"
    src.mkdir()
    for name, text in PROGRAM.items():
        (src / name).write_text(text)
    r = exec_("--mem", "1G", "--share", "/usr:/usr:ro", "--share", f"{src}:/src:rw", "--",
              "sh", "-c", "ln -s usr/lib64 /lib64 && ln -s /usr/lib/x86_64-linux-gnu /lib/ &&"
              " make -C /src CC=gcc")
    assert r.status == 0, str(r)
    app = src / "app"
    assert app.exists(), str(r)
    out = subprocess.run([str(app)], capture_output=True, check=True).stdout.decode()
    assert out == "hello from arcvm\nsum=5050\n"


def test_config_file(exec_, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_text("shared\n")
    cfg = tmp_path / "vm.json"
    cfg.write_text(json.dumps({"vcpu": 2, "ram": "384M", "kernel": "linux-lts",
                               "drives": ["./data:/data:ro"], "env": {"GREETING": "hi"}}))
    r = exec_("--config", cfg, "--", "sh", "-c",
              "nproc; echo $GREETING; cat /data/f; grep MemTotal /proc/meminfo")
    assert r.status == 0, str(r)
    lines = r.out.splitlines()
    assert lines[:3] == ["2", "hi", "shared"], str(r)
    memtotal_kb = int(lines[3].split()[1])
    assert 300 * 1024 < memtotal_kb <= 384 * 1024
    # An option overrides the file.
    r = exec_("--config", cfg, "--cpus", "1", "--env", "GREETING=yo", "--", "sh", "-c",
              "nproc; echo $GREETING")
    assert r.out == "1\nyo\n", str(r)


def test_bad_config_names_the_key(exec_, tmp_path):
    cfg = tmp_path / "vm.json"
    cfg.write_text('{"vcpu": 2, "network": {"mode": "bridge"}}')
    r = exec_("--config", cfg, "--", "true")
    assert r.status == 125, str(r)
    assert "network.mode" in r.err and "bridge" not in r.out, str(r)


def test_usage_errors_are_125(exec_):
    assert exec_().status == 125
    assert exec_("--cpus", "0", "--", "true").status == 125
    assert exec_("--share", "/no/such/dir:/x", "--", "true").status == 125


def read_until(fd, proc, want, deadline):
    """Reads the pty master until `want` shows up; fails at the deadline."""
    seen = b""
    while want not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
            pytest.fail(f"no {want!r} from arcvm exec -t; output so far: {seen!r}")
        if select.select([fd], [], [], min(left, 1.0))[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                pytest.fail(f"pty closed before {want!r}; output so far: {seen!r}")
    return seen


def test_tty_shell_with_job_control_and_window_size(arcvm):
    """arcvm exec -t -- sh on a terminal: the guest sees a pty of the host
    terminal's size, follows a resize, and has job control."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))
    proc = subprocess.Popen([str(arcvm), "exec", "-t", "--", "sh", "-i"], stdin=slave,
                            stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    deadline = time.monotonic() + PTY_TIMEOUT
    try:
        # The guest shell's prompt: arcvm has the terminal in raw mode by then.
        read_until(master, proc, b"# ", deadline)
        # Markers are computed by the shell, so the terminal's echo of the
        # typed line never matches them.
        os.write(master, b"stty size; echo SIZE-$((40+2))\n")
        out = read_until(master, proc, b"SIZE-42\r\n", deadline)
        assert b"31 97\r\n" in out
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        # SIGWINCH as a terminal sends on a resize; arcvm handles it before
        # the keystrokes written after it, so no waiting is needed.
        proc.send_signal(28)
        os.write(master, b"stty size; echo RESIZED-$((40+3))\n")
        out = read_until(master, proc, b"RESIZED-43\r\n", deadline)
        assert b"40 120\r\n" in out
        os.write(master, b"sleep 100 & jobs; kill %1; wait; echo JOBS-$((40+4))\n")
        out = read_until(master, proc, b"JOBS-44\r\n", deadline)
        assert b"Running" in out  # `jobs` lists the background job
        os.write(master, b"exit 7\n")
        assert proc.wait(timeout=max(1, deadline - time.monotonic())) == 7
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


SHARE_CONFORMANCE = r"""
set -e
cd /s
echo one > f && echo two >> f                       # create, append
test "$(cat f)" = "$(printf 'one\ntwo')"
mv f g && test ! -e f && test -f g                   # rename
mkdir d && touch d/a d/b d/c                         # mkdir, readdir
test "$(ls d | tr '\n' ' ')" = "a b c "
mv d/a d/z && test "$(ls d | tr '\n' ' ')" = "b c z "
rm d/b && test "$(ls d | tr '\n' ' ')" = "c z "      # unlink
printf 0123456789 > t && truncate -s 4 t             # truncate
test "$(cat t)" = 0123
truncate -s 8 t && test "$(wc -c < t)" = 8
touch -d '2020-01-02 03:04:05' m                      # mtime
test "$(stat -c %Y m)" = "$(date -d '2020-01-02 03:04:05' +%s)"
# > 4 GiB offsets, sparse: a byte written at 5 GiB reads back there.
printf X | dd of=big bs=1 seek=5368709120 conv=notrunc 2>/dev/null
test "$(stat -c %s big)" = 5368709121
test "$(dd if=big bs=1 skip=5368709120 count=1 2>/dev/null)" = X
ln g hard && test "$(stat -c %h g)" = 2              # hard link
ln -s g soft && test "$(readlink soft)" = g && test "$(cat soft)" = "$(cat g)"
rmdir d 2>/dev/null && exit 9 || true                 # not empty: refused
rm d/c d/z && rmdir d && test ! -e d
echo conformance-ok
"""


def test_share_filesystem_conformance(exec_, tmp_path):
    """Ordinary file system semantics through the share, checked in the guest
    and then on the host."""
    box = tmp_path / "s"
    box.mkdir()
    r = exec_("--share", f"{box}:/s", "--", "sh", "-c", SHARE_CONFORMANCE)
    assert r.status == 0, str(r)
    assert r.out.strip().endswith("conformance-ok"), str(r)
    assert (box / "g").read_text() == "one\ntwo\n"
    assert (box / "t").read_bytes() == b"0123\0\0\0\0"
    # The guest runs in UTC.
    assert (box / "m").stat().st_mtime == calendar.timegm((2020, 1, 2, 3, 4, 5, 0, 0, 0))
    big = box / "big"
    assert big.stat().st_size == 5368709121
    assert big.stat().st_blocks * 512 < 1 << 20, "the 5 GiB file should stay sparse"
    with open(big, "rb") as f:
        f.seek(5368709120)
        assert f.read() == b"X"
    assert (box / "hard").stat().st_ino == (box / "g").stat().st_ino
    assert os.readlink(box / "soft") == "g"
    assert not (box / "d").exists()


def test_guest_kernel_panic_is_reported_with_status_123(exec_):
    """The command crashes the guest's kernel (sysrq c): arcvm names the
    panic with the kernel's own line and exits 123, not as a failure of its
    own (125); the next VM boots as usual."""
    r = exec_("--", "sh", "-c", "echo before; echo c >/proc/sysrq-trigger; echo after")
    assert r.status == 123, str(r)
    assert "after" not in r.out, r     # "before" may or may not have left the guest
    # The line is the kernel's own, with its timestamp: "[    3.05] Kernel panic - ...".
    assert re.search(r"the guest kernel panicked before the command finished: (\[[ 0-9.]+\] )?"
                     r"Kernel panic - not syncing: sysrq triggered crash", r.err), r
    assert exec_("--", "echo", "next").out == "next\n"

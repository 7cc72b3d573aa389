"""arcvm exec --image: a Debian root filesystem built by `arcvm image debian`
(make builds it before this tier runs, cached in build/image-cache) boots as
the root disk with arcvm-init as PID 1, and the image file is the same after
the run as before: the guest's writes land in a throw-away overlay."""
import hashlib
import http.server
import os
import re
import subprocess
import threading

import pytest

import conftest

pytestmark = pytest.mark.usefixtures("needs_kvm")


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def debian_image():
    return conftest.debian_image("debian.ext4")


def test_exec_runs_on_debian_and_leaves_the_image_clean(run_arcvm, debian_image):
    before = digest(debian_image)
    mtime = os.stat(debian_image).st_mtime_ns
    r = run_arcvm("exec", "--image", debian_image, "--", "sh", "-c",
                  "cat /etc/debian_version; . /etc/os-release; echo \"id=$ID\"; "
                  "echo scribble > /etc/arcvm-was-here; cat /etc/arcvm-was-here; "
                  "rm -rf /usr/share/doc; test ! -e /usr/share/doc && echo removed; "
                  "readlink /proc/1/exe; ls /lib/modules/$(uname -r)/kernel >/dev/null && "
                  "echo modules")
    assert r.status == 0, str(r)
    lines = r.out.splitlines()
    assert re.fullmatch(r"\d+(\.\d+)*", lines[0]), r      # e.g. 12.11
    assert lines[1:] == ["id=debian", "scribble", "removed", "/usr/sbin/arcvm-init",
                         "modules"], r
    assert digest(debian_image) == before
    assert os.stat(debian_image).st_mtime_ns == mtime


def test_persist_keeps_changes_and_exec_works_there(run_arcvm, debian_image, tmp_path):
    """--persist writes into the image (a copy here: the build tree is
    read-only in the test host); a later default run sees the change, and
    exec's own behaviour holds on the image: status, stdin, 9p shares,
    --copy-out, Debian's own tools."""
    img = tmp_path / "persist.ext4"
    subprocess.run(["cp", "--sparse=always", str(debian_image), str(img)], check=True,
                   timeout=300)
    r = run_arcvm("exec", "--image", img, "--persist", "--", "sh", "-c",
                  "echo kept > /root/kept; sync")
    assert r.status == 0, str(r)

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.txt").write_text("shared from the host\n")
    out = tmp_path / "copied.txt"
    r = run_arcvm("exec", "--image", img, "--share", f"{tmp_path / 'in'}:/mnt/in:ro",
                  "--copy-out", f"/root/made.txt:{out}", "--", "sh", "-c",
                  "cat /root/kept; dpkg-query -W -f='${Status}\\n' base-files; "
                  "cat /mnt/in/note.txt; echo made in the guest > /root/made.txt; "
                  "tr a-z A-Z; exit 7",
                  stdin=b"from the host\n")
    assert r.status == 7, str(r)
    assert r.out == "kept\ninstall ok installed\nshared from the host\nFROM THE HOST\n", str(r)
    assert out.read_text() == "made in the guest\n"


def test_network_on_the_debian_image(run_arcvm, debian_image, tmp_path):
    """--net on an image: minbase has neither iproute2 nor udhcpc, so the
    image carries arcvm-net and busybox for them; the guest gets its lease
    by DHCP and fetches a page from the host's loopback with bash alone."""
    (tmp_path / "page").write_text("served to the Debian guest\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        r = run_arcvm("exec", "--image", debian_image, "--net", "user,ip=dhcp", "--",
                      "bash", "-c",
                      "command -v ip udhcpc || echo no-ip-no-udhcpc; cat /etc/resolv.conf; "
                      f"exec 3<>/dev/tcp/10.0.2.2/{port}; "
                      "printf 'GET /page HTTP/1.0\\r\\n\\r\\n' >&3; tail -n 1 <&3")
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.status == 0, str(r)
    assert r.out == "no-ip-no-udhcpc\nnameserver 10.0.2.3\nserved to the Debian guest\n", str(r)

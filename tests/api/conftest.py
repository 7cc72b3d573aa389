"""Fixtures for the host-side tests of `arcvm api`: a server process on a
socket in tmp_path, and an HTTP client for it (Python's http.client over
AF_UNIX). Every wait is bounded."""
import http.client
import json
import os
import pathlib
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
ARCVM = BUILD / "arcvm"
GUEST = BUILD / "tests" / "api" / "guest.elf"
TIMEOUT = 20


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = str(path)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Api:
    """One `arcvm api` process; its stdout (the guest console) and stderr
    (the log) go to files in tmp_path."""

    def __init__(self, tmp_path, *args, name="api"):
        self.sock = tmp_path / f"{name}.sock"
        self.out_path = tmp_path / f"{name}.out"
        self.err_path = tmp_path / f"{name}.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([str(ARCVM), "api", "--socket", str(self.sock), *args],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + TIMEOUT
        while not self.sock.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"arcvm api did not create its socket: {self.stderr()}")
            time.sleep(0.02)

    def request(self, method, path, body=None, raw=None):
        """Returns (status, parsed JSON or None). `raw` sends bytes as the body."""
        conn = UnixHTTPConnection(self.sock)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        return r.status, json.loads(text) if text else None

    def get(self, path):
        return self.request("GET", path)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def patch(self, path, body):
        return self.request("PATCH", path, body)

    def state(self):
        status, info = self.get("/")
        assert status == 200, info
        return info["state"]

    def stdout(self):
        return self.out_path.read_bytes().decode(errors="replace")

    def stderr(self):
        return self.err_path.read_bytes().decode(errors="replace")

    def wait_stdout(self, text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in self.stdout():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the console in {timeout} s: "
                                     f"{self.stdout()!r}\n{self.stderr()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
        return self.proc.returncode


@pytest.fixture
def api(tmp_path):
    servers = []

    def start(*args, name="api"):
        s = Api(tmp_path, *args, name=name)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def needs_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("no usable /dev/kvm on this host")
    assert GUEST.exists(), f"{GUEST} is not built (make test-api)"

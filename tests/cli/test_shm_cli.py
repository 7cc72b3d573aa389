"""--shared-mem on the command line and "shared_mem" in a config file: bad
values are usage errors that name the problem, and a good one maps the region
(a tiny firmware guest on this host's /dev/kvm; the guest side is tested in
tests/linux/test_shm.py)."""
import json
import os
import pathlib
import subprocess

import pytest

BUILD = pathlib.Path(os.environ.get("BUILD", pathlib.Path(__file__).resolve().parents[2] / "build"))
ARCVM = BUILD / "arcvm"
FW = BUILD / "tests" / "cli" / "fw-HELLO.bin"
TIMEOUT = 30

BAD = [
    ("0", "non-zero multiple of 4 KiB"),
    ("4097", "non-zero multiple of 4 KiB"),
    ("4XB", "unknown unit"),
    ("-1M", "bad --shared-mem '-1M'"),
    ("1M,size=2", "unknown item 'size=2'"),
    ("1M,path=/a,fd=3", "not both"),
    ("1M,fd=x", "fd= needs one descriptor number"),
    ("1M,", "empty item"),
]


def arcvm(*args, **kw):
    return subprocess.run([ARCVM, *map(str, args)], capture_output=True, timeout=TIMEOUT, **kw)


@pytest.mark.parametrize("spec,needle", BAD)
def test_run_refuses_bad_values_with_status_2(spec, needle):
    r = arcvm("run", "--shared-mem", spec)
    assert r.returncode == 2, r
    assert needle in r.stderr.decode(), r


@pytest.mark.parametrize("spec,needle", BAD)
def test_exec_refuses_bad_values_with_status_125(spec, needle):
    r = arcvm("exec", "--shared-mem", spec, "--", "true")
    assert r.returncode == 125, r
    assert needle in r.stderr.decode(), r


def test_exec_refuses_it_with_a_snapshot(tmp_path):
    r = arcvm("exec", "--from-snapshot", tmp_path, "--shared-mem", "1M", "--", "true")
    assert r.returncode == 125, r
    assert "--shared-mem" in r.stderr.decode(), r


def test_config_key_is_checked(tmp_path):
    cfg = tmp_path / "vm.json"
    cfg.write_text(json.dumps({"shared_mem": "12Q"}))
    r = arcvm("run", "--config", cfg)
    assert r.returncode == 2, r
    assert "key 'shared_mem'" in r.stderr.decode() and "unknown unit" in r.stderr.decode(), r
    cfg.write_text(json.dumps({"shared_mem": 4096}))
    r = arcvm("run", "--config", cfg)
    assert r.returncode == 2, r
    assert "expected a string" in r.stderr.decode(), r


def test_unusable_memory_is_an_error_naming_it(tmp_path):
    r = arcvm("run", "--shared-mem", f"1M,path={tmp_path}")
    assert r.returncode == 1, r
    assert "is a folder" in r.stderr.decode(), r
    r = arcvm("run", "--shared-mem", f"1M,path={tmp_path}/no/such")
    assert r.returncode == 1, r
    assert "folder does not exist" in r.stderr.decode(), r
    r = arcvm("run", "--shared-mem", "1M,fd=97")
    assert r.returncode == 1, r
    assert "fd=97: not an open descriptor" in r.stderr.decode(), r


@pytest.fixture
def kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("no usable /dev/kvm on this host")


def test_a_path_region_is_created_and_mapped(kvm, tmp_path):
    region = tmp_path / "region"
    r = arcvm("run", "--bios", FW, "--shared-mem", f"8M,path={region}")
    assert r.returncode == 0, r
    assert region.stat().st_size == 8 << 20
    assert region.stat().st_mode & 0o777 == 0o600


def test_an_inherited_fd_is_mapped_and_a_short_one_refused(kvm):
    fd = os.memfd_create("t")
    try:
        os.ftruncate(fd, 1 << 20)
        r = arcvm("run", "--bios", FW, "--shared-mem", f"1M,fd={fd}", pass_fds=[fd])
        assert r.returncode == 0, r
        r = arcvm("run", "--bios", FW, "--shared-mem", f"2M,fd={fd}", pass_fds=[fd])
        assert r.returncode == 1, r
        assert "fewer than the 2097152 asked for" in r.stderr.decode(), r
    finally:
        os.close(fd)

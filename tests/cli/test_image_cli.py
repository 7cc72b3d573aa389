"""arcvm image debian's command line, and its cache: the image the Linux tier
uses (make builds it before this tier) comes back from the cache, without
root or network, byte for byte."""
import filecmp
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
ARCVM = BUILD / "arcvm"
IMAGE = BUILD / "tests" / "linux" / "debian.ext4"
TIMEOUT = 120


def arcvm(*args):
    return subprocess.run([ARCVM, *map(str, args)], capture_output=True, timeout=TIMEOUT,
                          text=True)


def test_usage_errors_name_the_problem(tmp_path):
    out = tmp_path / "x.ext4"
    cases = [
        (["image"], "builds 'debian' images only"),
        (["image", "ubuntu", "-o", out], "builds 'debian' images only"),
        (["image", "debian"], "no output file"),
        (["image", "debian", "--size", "10M", "-o", out], "at least 64M"),
        (["image", "debian", "--size", "1XB", "-o", out], "bad --size"),
        (["image", "debian", "--packages", "gcc,Bad_Name", "-o", out], "bad package name 'Bad_Name'"),
        (["image", "debian", "--suite", "../etc", "-o", out], "bad --suite"),
        (["image", "debian", "-o", out, "extra"], "unexpected argument"),
    ]
    for args, msg in cases:
        r = arcvm(*args)
        assert r.returncode == 2, (args, r)
        assert msg in r.stderr, (args, r)
    assert not out.exists()


def test_exec_persist_needs_image(tmp_path):
    r = arcvm("exec", "--persist", "--", "true")
    assert r.returncode == 125, r
    assert "--persist needs --image" in r.stderr
    r = arcvm("exec", "--image", tmp_path / "none.ext4", "--", "true")
    assert r.returncode == 125, r
    assert "none.ext4" in r.stderr


def test_same_inputs_come_from_the_cache(tmp_path):
    assert IMAGE.exists(), f"{IMAGE} is missing (make test-cli builds it)"
    out = tmp_path / "again.ext4"
    r = arcvm("image", "debian", "--size", "1G", "--packages", "", "-o", out)
    assert r.returncode == 0, r
    assert "from the cache" in r.stderr, r
    assert "debootstrap" not in r.stderr, r
    assert filecmp.cmp(out, IMAGE, shallow=False)
    assert not list(tmp_path.glob("*.arcvm-tmp"))

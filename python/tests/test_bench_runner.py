"""The benchmark runner's bookkeeping: result parsing, the table, and the
rewrite of only the IonVM section of the results file."""

import sys

from conftest import PYTHON_DIR

sys.path.insert(0, str(PYTHON_DIR.parent / "bench" / "ion"))

import run  # noqa: E402


def test_parse_result_per_language():
    assert run.parse_result("ionvm", "fib", "noise\n{fib, 9227465}\n") == "9227465"
    assert run.parse_result("lua", "fib", "fib=9227465\n") == "9227465"
    assert run.parse_result("erlang", "ring", "ring=1000000\n") == "1000000"
    assert run.parse_result("ionvm", "fib", "{ring, 1}\n") is None
    assert run.parse_result("lua", "fib", "") is None


def test_wrong_result_gets_no_time_and_is_listed():
    good = run.Measure(True, 1.0, 1024)
    slow = run.Measure(True, 2.0, 2048)
    bad = run.Measure(False, note="exit 1, got None")
    rows = [("fib", 35, "cpu", "fib", {"ionvm": good, "lua": slow, "erlang": bad}),
            ("ring", 10, "actor", "ring", {"ionvm": bad, "lua": good, "erlang": slow})]
    text, failed = run.render(rows, (100, {"ionvm": (512.0, None), "lua": (2000.0, None),
                                           "erlang": (None, "boom")}), False)
    assert failed
    fib_row = next(line for line in text.splitlines() if line.startswith("| fib ("))
    assert "| 1.000 | 2.000 | FAIL | 0.50x | - | <= 1.0x Lua | yes |" in fib_row
    ring_row = next(line for line in text.splitlines() if line.startswith("| ring ("))
    assert ring_row.count("FAIL") == 1 and ring_row.endswith("| - |")
    assert "| bytes per process | 512 B | 2000 B | FAIL |" in text
    assert "- ring / ionvm: exit 1, got None" in text
    assert "- idle / erlang: boom" in text


def test_write_section_keeps_other_sections(tmp_path):
    path = tmp_path / "RESULTS.md"
    run.write_section(path, "first")
    assert path.read_text() == "## IonVM\n\nfirst\n"
    path.write_text("# Results\n\n## VMM\n\nv\n\n## IonVM\n\nold\n\n## Later\n\nl\n")
    run.write_section(path, "new")
    assert path.read_text() == "# Results\n\n## VMM\n\nv\n\n## IonVM\n\nnew\n\n## Later\n\nl\n"

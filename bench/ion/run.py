#!/usr/bin/python3
"""IonVM benchmarks against Lua 5.4 and Erlang/OTP (+S 1), in one run.

    run.py --ionvm build/ion/ionvm [--results bench/RESULTS.md] [--quick] [--only fib,ring]

Every program prints its result and the runner compares it with the value
computed here; a wrong or missing result is reported as FAIL and gets no
time, so a broken VM cannot post a figure. For each run the runner records
the wall time (process start to exit, start-up included) and the peak RSS
(ru_maxrss of the child from wait4). Memory per idle process is the peak
RSS with N processes blocked in receive minus the peak RSS with none,
divided by N. The table is printed and, with --results, written into the
"IonVM" section of that file (other sections are kept).
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import programs  # noqa: E402

# name, full size, quick size, kind (cpu: target vs Lua; actor: vs Erlang)
BENCHMARKS = [
    ("fib", 35, 20, "cpu", "fib(n) recursive"),
    ("fma", 100_000_000, 100_000, "cpu", "n float multiply-adds"),
    ("proto", 10_000_000, 100_000, "cpu", "n property reads, prototype depth 3"),
    ("strbuild", 1_000_000, 10_000, "cpu", "string of n pieces"),
    ("spawn", 1_000_000, 10_000, "actor", "n processes each send one message"),
    ("ring", 1_000_000, 10_000, "actor", "ring of 1000 processes, n hops"),
    ("pingpong", 1_000_000, 10_000, "actor", "n messages between two processes"),
    ("timeout", 10_000, 1_000, "actor", "n processes in receive with 10 ms timeout"),
]
IDLE_FULL, IDLE_QUICK = 100_000, 1_000
RUN_TIMEOUT = 900


def expected(name, n):
    if name == "fib":
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a
    return {
        "fma": n * (n - 1) // 4 if n * (n - 1) % 4 == 0 else n * (n - 1) / 4,
        "proto": 3 * n,
        "strbuild": 2 * n,
        "spawn": n,
        "ring": n,
        "pingpong": 2 * (n // 2),
        "timeout": n,
        "idle": n,
    }[name]


class Measure:
    def __init__(self, ok, wall=None, rss_kb=None, note=""):
        self.ok, self.wall, self.rss_kb, self.note = ok, wall, rss_kb, note


TIME = "/usr/bin/time"


def run_measured(cmd, env=None):
    """(stdout, stderr, returncode, wall seconds, peak RSS KiB) of one run.

    The peak RSS comes from GNU time (-f %M) rather than from wait4 in this
    process: Linux carries the RSS high-water mark of a child across exec,
    and a child forked from this Python process starts with its RSS. Without
    GNU time (Debian package `time`) it falls back to wait4, whose figure
    then includes that inherited RSS."""
    if not os.access(TIME, os.X_OK):
        return _run_wait4(cmd, env)
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    rss_file = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
    rss_file.close()
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file.name] + cmd,
                                stdout=out, stderr=err, env=env)
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        wall = time.perf_counter() - t0
        rss = None
        try:
            last = Path(rss_file.name).read_text().strip().splitlines()[-1]
            rss = int(last)
        except (OSError, IndexError, ValueError):
            pass
    finally:
        os.unlink(rss_file.name)
    out.seek(0)
    err.seek(0)
    return (out.read().decode(errors="replace"), err.read().decode(errors="replace"),
            proc.returncode, wall, rss)


def _run_wait4(cmd, env):
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return (out.read().decode(errors="replace"), err.read().decode(errors="replace"),
            proc.returncode, wall, usage.ru_maxrss)


def parse_result(lang, name, stdout):
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    last = lines[-1].strip()
    if lang == "ionvm":
        m = re.fullmatch(r"\{%s, (.+)\}" % re.escape(name), last)
    else:
        m = re.fullmatch(r"%s=(.+)" % re.escape(name), last)
    return m.group(1) if m else None


class Runners:
    def __init__(self, ionvm, workdir):
        self.ionvm = str(ionvm)
        self.workdir = Path(workdir)
        self.erl_dir = self.workdir / "erl"
        self.erl_dir.mkdir()
        subprocess.run(["erlc", "-o", str(self.erl_dir), str(HERE / "erl" / "bench_ion.erl")],
                       check=True)
        self.lua_env = dict(os.environ, LUA_PATH=str(HERE / "lua" / "?.lua") + ";;")

    def command(self, lang, name, n):
        if lang == "ionvm":
            pack = self.workdir / ("%s-%d.ionpack" % (name, n))
            if not pack.exists():
                pack.write_bytes(programs.pack(name, n))
            return [self.ionvm, str(pack)], None
        if lang == "lua":
            return ["lua5.4", str(HERE / "lua" / "bench.lua"), name, str(n)], self.lua_env
        return (["erl", "+S", "1", "+P", "4000000", "-noshell", "-pa", str(self.erl_dir),
                 "-eval", 'bench_ion:main(["%s", "%d"])' % (name, n)], None)

    def measure(self, lang, name, n, repeat=1):
        """Best (lowest wall time) of repeat runs; any wrong run fails."""
        best = None
        for _ in range(repeat):
            m = self._measure_once(lang, name, n)
            if not m.ok:
                return m
            if best is None or m.wall < best.wall:
                best = m
        return best

    def _measure_once(self, lang, name, n):
        cmd, env = self.command(lang, name, n)
        try:
            stdout, stderr, rc, wall, rss = run_measured(cmd, env)
        except Exception as e:  # a pack the builder refuses, a missing tool
            return Measure(False, note="%s: %s" % (type(e).__name__, e))
        got = parse_result(lang, name, stdout)
        want = expected(name, n)
        if rc != 0 or got is None or not _same_number(got, want) or rss is None:
            tail = (stderr.strip().splitlines() or stdout.strip().splitlines() or [""])[-1]
            return Measure(False, note="exit %d, got %r, want %r; %s" % (rc, got, want, tail[:160]))
        return Measure(True, wall, rss)


def _same_number(text, want):
    try:
        return float(text) == float(want)
    except ValueError:
        return False


LANGS = ("ionvm", "lua", "erlang")

NOTES = """\
How the programs compare (sources: bench/ion/programs.py, bench/ion/lua/,
bench/ion/erl/):
- Every program prints its result and the runner checks it (fib(35) = 9227465,
  the multiply-add sum 2499999975000000, 3n for the property reads, 2n bytes
  for the string, n messages/hops/timeouts); a wrong result is a FAIL with no time.
- Lua runs its processes as coroutines on bench/ion/lua/sched.lua: FIFO
  mailboxes, a timer heap for receive timeouts (os.clock, spinning while
  everyone waits), and a reduction budget spent at spawn/send since Lua cannot
  preempt. Erlang runs with one scheduler (`+S 1`).
- Property reads: Lua chains `__index` tables; Erlang, which has no prototypes,
  walks a chain of maps with a `'__proto'` key; IonVM uses `get_prop` on an
  object whose prototype chain is three objects deep.
- String building: Lua `table.concat`, Erlang an iolist and
  `iolist_to_binary`, IonVM an array and `string.join`.
- CPU rows are judged against Lua, actor rows against Erlang; ratios below 1
  mean IonVM is faster. Short rows are dominated by process start-up (see the
  empty-program times above), which favours IonVM and Lua over Erlang."""


def fmt_time(m):
    return "%.3f" % m.wall if m.ok else "FAIL"


def fmt_ratio(a, b):
    if not (a.ok and b.ok) or b.wall <= 0:
        return "-"
    return "%.2fx" % (a.wall / b.wall)


def fmt_rss(m):
    return "%.1f" % (m.rss_kb / 1024) if m.ok else "-"


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count() or 0, platform.release())


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except (OSError, IndexError):
        return "?"


def versions():
    lua = subprocess.run(["lua5.4", "-v"], capture_output=True, text=True).stdout.split()
    otp = subprocess.run(["erl", "-noshell", "-eval",
                          'io:format("~s", [erlang:system_info(otp_release)]), halt().'],
                         capture_output=True, text=True).stdout.strip()
    return "Lua %s, Erlang/OTP %s" % (lua[1] if len(lua) > 1 else "?", otp or "?")


def run_all(runners, quick, only, repeat, log):
    rows = []
    for name, full, small, kind, what in BENCHMARKS:
        if only and name not in only:
            continue
        n = small if quick else full
        res = {}
        for lang in LANGS:
            res[lang] = runners.measure(lang, name, n, repeat)
            m = res[lang]
            log("  %-9s %-7s %s" % (name, lang, ("%.3f s, %.1f MiB" % (m.wall, m.rss_kb / 1024))
                                    if m.ok else "FAIL " + m.note))
        rows.append((name, n, kind, what, res))
    idle = None
    if not only or "idle" in only:
        n = IDLE_QUICK if quick else IDLE_FULL
        idle = {}
        for lang in LANGS:
            m0 = runners.measure(lang, "idle", 0)
            m1 = runners.measure(lang, "idle", n)
            if m0.ok and m1.ok:
                idle[lang] = ((m1.rss_kb - m0.rss_kb) * 1024 / n, None)
            else:
                idle[lang] = (None, (m0 if not m0.ok else m1).note)
            log("  %-9s %-7s %s" % ("idle", lang, "%.0f B/process" % idle[lang][0]
                                    if idle[lang][0] is not None else "FAIL " + idle[lang][1]))
        idle = (n, idle)
    return rows, idle


def render(rows, idle, quick):
    out = []
    head = ("| benchmark | n | IonVM s | Lua s | Erlang s | IonVM/Lua | IonVM/Erlang "
            "| target | met |")
    out.append(head)
    out.append("|" + "---|" * 9)
    for name, n, kind, what, r in rows:
        ion = r["ionvm"]
        if kind == "cpu":
            target, ref = "<= 1.0x Lua", r["lua"]
        else:
            target, ref = "<= 1.0x Erlang", r["erlang"]
        met = "-" if not (ion.ok and ref.ok) else ("yes" if ion.wall <= ref.wall else "no")
        out.append("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, what, "{:,}".format(n), fmt_time(ion), fmt_time(r["lua"]),
            fmt_time(r["erlang"]), fmt_ratio(ion, r["lua"]), fmt_ratio(ion, r["erlang"]),
            target, met))
    out.append("")
    out.append("Peak RSS (MiB):")
    out.append("")
    out.append("| benchmark | IonVM | Lua | Erlang |")
    out.append("|---|---|---|---|")
    for name, n, kind, what, r in rows:
        out.append("| %s | %s | %s | %s |" % (name, fmt_rss(r["ionvm"]), fmt_rss(r["lua"]),
                                               fmt_rss(r["erlang"])))
    if idle:
        n, per = idle
        out.append("")
        out.append("Memory per idle process (peak RSS with %s processes blocked in receive "
                   "minus peak RSS with none, divided by their number; target < 1024 B):"
                   % "{:,}".format(n))
        out.append("")
        out.append("| | IonVM | Lua (coroutine) | Erlang |")
        out.append("|---|---|---|---|")
        cells = []
        for lang in LANGS:
            b, note = per[lang]
            cells.append("%.0f B" % b if b is not None else "FAIL")
        ion_b = per["ionvm"][0]
        out.append("| bytes per process | %s | %s | %s |" % tuple(cells))
        out.append("")
        out.append("Idle-process target met: %s." % (
            "-" if ion_b is None else ("yes" if ion_b < 1024 else "no")))
    fails = [(name, lang, r[lang].note) for name, n, kind, what, r in rows
             for lang in LANGS if not r[lang].ok]
    if idle:
        fails += [("idle", lang, note) for lang, (b, note) in idle[1].items() if b is None]
    if fails:
        out.append("")
        out.append("Failed runs (no time recorded):")
        out.append("")
        for name, lang, note in fails:
            out.append("- %s / %s: %s" % (name, lang, note.replace("|", "/")))
    return "\n".join(out), bool(fails)


def write_section(path, body):
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    section = "## IonVM\n\n" + body.rstrip() + "\n"
    m = re.search(r"^## IonVM\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    if m:
        text = text[:m.start()] + section + ("\n" if m.end() < len(text) else "") + \
            text[m.end():]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + section
    path.write_text(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ionvm", required=True, help="path of the ionvm binary")
    ap.add_argument("--results", help="write the IonVM section of this markdown file")
    ap.add_argument("--label", help="what was measured, e.g. the git revision of the VM")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per cell; the fastest is reported (default 1)")
    ap.add_argument("--only", help="comma-separated benchmark names (and/or idle)")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    load_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="ion-bench-") as tmp:
        runners = Runners(Path(args.ionvm).resolve(), tmp)
        for lang in LANGS:                   # warm the page cache first
            runners.measure(lang, "fib", 1)
        startup = {lang: runners.measure(lang, "fib", 1) for lang in LANGS}
        rows, idle = run_all(runners, args.quick, only, args.repeat, log)
    table, failed = render(rows, idle, args.quick)
    load = "1-minute load average %s at the start, %s at the end (on %d cores)" % (
        load_start, loadavg(), os.cpu_count() or 0)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = ("Measured %s on %s; %s (`erl +S 1`); IonVM `%s`%s. Best of %d run(s) per cell; "
              "wall time includes process start-up (an empty program: IonVM %s s, Lua %s s, "
              "Erlang %s s); %s. Produced by `make bench-ion` (bench/ion/run.py)."
              % (stamp, machine(), versions(), args.ionvm + ("` at `%s" % args.label
                                                              if args.label else ""),
                 " (quick sizes, not comparable)" if args.quick else "", args.repeat,
                 fmt_time(startup["ionvm"]), fmt_time(startup["lua"]),
                 fmt_time(startup["erlang"]), load))
    body = header + "\n\n" + table + "\n\n" + NOTES
    if args.results:
        write_section(args.results, body)
    print(body)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

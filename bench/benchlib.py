"""benchlib.py - spawning a VMM, timing it and reading its peak RSS.

Shared by bench/native/native_bench.py and bench/linux/boot_bench.py.
Wall time runs from just before the process is spawned to the moment its
pidfd reports the exit; peak RSS is ru_maxrss from wait4(), read by the
static launcher bench/vmmrun.c (see there why Python cannot read it itself),
whose fork and exec (well under a millisecond) are in every VMM's time alike.
Every wait has a timeout: a process that outlives it is killed and reported,
never waited on.
"""
import os
import select
import signal
import statistics
import time

DEVNULL = "/dev/null"


class BenchError(Exception):
    """A run did not do what the benchmark expects (status, timeout, output)."""


# Set by setup(): the vmmrun launcher and the file it writes its result to.
_launcher = {"vmmrun": None, "result": None}


def setup(vmmrun, scratch):
    """Names the vmmrun binary and a scratch folder; call once before spawn()."""
    if not os.access(vmmrun, os.X_OK):
        raise BenchError("%s is not an executable (make bench builds it)" % vmmrun)
    os.makedirs(scratch, exist_ok=True)
    _launcher["vmmrun"] = vmmrun
    _launcher["result"] = os.path.join(scratch, "vmmrun.result")


def spawn(argv, stdout=DEVNULL, stderr=DEVNULL, stdout_fd=None):
    """Starts argv with stdin from /dev/null; stdout and stderr go to files
    (or stdout to the pipe end stdout_fd). Returns (pid, start_ns), start_ns
    taken just before the spawn."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, DEVNULL, os.O_RDONLY, 0)]
    if stdout_fd is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdout_fd, 1))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                        0o644))
    actions.append((os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    if not _launcher["vmmrun"]:
        raise BenchError("benchlib.setup() was not called")
    if os.path.exists(_launcher["result"]):
        os.unlink(_launcher["result"])
    argv = [_launcher["vmmrun"], _launcher["result"]] + list(argv)
    start = time.perf_counter_ns()
    # Its own process group, so that kill() reaches the command under it too.
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions, setpgroup=0)
    return pid, start


_last_cpu = {"us": None}


def reap(pid):
    """wait4()s an exited (or killed) launcher: (exit code, peak RSS in KiB)
    of the command it ran. The exit code is negative -N when signal N ended
    it; the RSS is None when the launcher itself was killed. The command's
    user+system CPU time is left in last_cpu_s()."""
    _, status, _ = os.wait4(pid, 0)
    _last_cpu["us"] = None
    try:
        with open(_launcher["result"]) as f:
            fields = dict(kv.split("=") for kv in f.read().split())
        _last_cpu["us"] = int(fields["cpu_us"])
        return int(fields["exit"]), int(fields["maxrss_kib"])
    except (OSError, KeyError, ValueError):
        return os.waitstatus_to_exitcode(status), None


def last_cpu_s():
    """User+system CPU seconds of the command reap() last reaped, or None."""
    return None if _last_cpu["us"] is None else _last_cpu["us"] / 1e6


def _exited(pidfd, timeout_s):
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


def kill(pid, grace_s=2.0):
    """Ends the launcher and the command under it (one process group): SIGTERM,
    and SIGKILL when they are still there after grace_s. Does not reap."""
    pidfd = os.pidfd_open(pid)
    try:
        os.killpg(pid, signal.SIGTERM)
        if not _exited(pidfd, grace_s):
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def wait_exit(pid, timeout_s):
    """Waits for pid to exit, at most timeout_s. Returns (exit_ns, code,
    maxrss_kib); on timeout kills it, reaps it and raises BenchError."""
    pidfd = os.pidfd_open(pid)
    try:
        if not _exited(pidfd, timeout_s):
            kill(pid)
            reap(pid)
            raise BenchError("still running after %.0f s; killed" % timeout_s)
        end = time.perf_counter_ns()
    finally:
        os.close(pidfd)
    code, rss = reap(pid)
    return end, code, rss


def run_timed(argv, timeout_s, expect_code, stderr_path=DEVNULL):
    """Runs argv to completion: {"wall_s", "cpu_s", "maxrss_kib"}. Raises BenchError
    when it times out or exits with another status than expect_code."""
    pid, start = spawn(argv, stderr=stderr_path)
    end, code, rss = wait_exit(pid, timeout_s)
    if code != expect_code:
        detail = ""
        if stderr_path != DEVNULL:
            with open(stderr_path, errors="replace") as f:
                detail = f.read().strip()[-800:]
        raise BenchError("%s exited with %d, expected %d%s" % (
            " ".join(argv), code, expect_code, (": " + detail) if detail else ""))
    return {"wall_s": (end - start) / 1e9, "cpu_s": last_cpu_s(), "maxrss_kib": rss}


def summary(values):
    """Median, quartiles, min and max of a non-empty list."""
    vals = sorted(values)
    if len(vals) >= 4:
        q1, _, q3 = statistics.quantiles(vals, n=4)
    else:
        q1, q3 = vals[0], vals[-1]
    return {"n": len(vals), "median": statistics.median(vals), "q1": q1, "q3": q3,
            "min": vals[0], "max": vals[-1]}


def rotate(items, i):
    """items in round i's order: each item takes every position in turn, so
    no VMM always runs right after the same other one."""
    k = i % len(items)
    return items[k:] + items[:k]

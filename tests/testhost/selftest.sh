#!/bin/sh
# Checks the test host end to end: a command's output, stderr and exit
# status come back; /dev/kvm exists inside; a --share-out folder is
# writable at its host path, and so is a working directory under /tmp; the
# guest image boots under nested KVM with the QEMU microvm launcher; a
# too-short --timeout ends with 124; an L1 that stops sending its heartbeat
# is taken for stalled (122).
# Needs `make testhost`. Prints one line per check and exits non-zero when
# any fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=$here/run
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # NAME CONDITION-STATUS DETAIL
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1)); echo "ok   $1"
	else
		failed=$((failed + 1)); echo "FAIL $1: $3"
	fi
}

# 1. stdout, stderr and the exit status come back separately; /dev/kvm is there.
"$run" -- sh -c 'test -c /dev/kvm && echo kvm-ok; echo on-stderr >&2; exit 7' \
	>"$tmp/out" 2>"$tmp/err"
status=$?
check "exit status 7 comes back" $([ $status -eq 7 ]; echo $?) "status $status"
check "stdout has kvm-ok" $(grep -qx kvm-ok "$tmp/out"; echo $?) "stdout: $(cat "$tmp/out")"
check "stderr has on-stderr" $(grep -qx on-stderr "$tmp/err"; echo $?) "stderr: $(cat "$tmp/err")"
check "stdout has nothing else" $([ "$(cat "$tmp/out")" = kvm-ok ]; echo $?) \
	"stdout: $(cat "$tmp/out")"

# 2. A --share-out folder is written inside at the caller's path; a working
#    directory under /tmp (a fresh tmpfs inside) is shared by itself; the
#    environment carries TESTHOST=1 and the variables TESTHOST_ENV names.
out=$tmp/shared
mkdir -p "$out" "$tmp/cwd"
cd "$tmp/cwd"
SELFTEST_TOKEN=tok-$$ TESTHOST_ENV=SELFTEST_TOKEN "$run" --share-out "$out" -- \
	sh -c 'echo "$TESTHOST $SELFTEST_TOKEN $(pwd)" > "$1/result" && echo x > in-cwd' sh "$out" \
	>"$tmp/out2" 2>&1
status=$?
cd "$here"
check "share-out run exits 0" $([ $status -eq 0 ]; echo $?) "status $status: $(cat "$tmp/out2")"
want="1 tok-$$ $tmp/cwd"
got=$(cat "$out/result" 2>/dev/null)
check "share-out file written inside is seen on the host" \
	$([ "$got" = "$want" ]; echo $?) "want '$want', got '$got'"
check "a working directory under /tmp is shared" $([ -f "$tmp/cwd/in-cwd" ]; echo $?) \
	"no $tmp/cwd/in-cwd"

# 3. The point of it all: the guest kernel boots under nested KVM inside.
build=${TESTHOST_BUILD:-$(cd "$here/../.." && pwd)/build}
"$run" -- "$here/../../bench/qemu/microvm-boot.sh" "$build/guest/vmlinux" \
	"$build/guest/initrd.cpio.gz" quiet arcvm.run=echo+nested-ok >"$tmp/out4" 2>&1
status=$?
check "nested microvm boot exits 0" $([ $status -eq 0 ]; echo $?) "status $status: $(tail -5 "$tmp/out4")"
for want in "arcvm-guest: kernel" ARCVM-INIT-READY nested-ok ARCVM-RUN-EXIT=0; do
	check "nested guest printed $want" $(grep -q "$want" "$tmp/out4"; echo $?) \
		"output: $(tail -5 "$tmp/out4")"
done

# 4. The whole-run timeout kills the machine and exits 124.
"$run" --timeout 3 -- sleep 60 >"$tmp/out3" 2>&1
status=$?
check "--timeout ends with 124" $([ $status -eq 124 ]; echo $?) "status $status: $(cat "$tmp/out3")"

# 5. A stalled L1 (here: its heartbeat stopped by the job) ends the run with 122.
TESTHOST_STALL_S=20 "$run" --timeout 600 -- \
	sh -c 'kill -STOP "$(cat /run/testhost/heartbeat.pid)" && sleep 300' >"$tmp/out5" 2>&1
status=$?
check "a stalled test host ends with 122" $([ $status -eq 122 ]; echo $?) \
	"status $status: $(tail -3 "$tmp/out5")"

echo "testhost selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

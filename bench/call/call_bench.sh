#!/bin/sh
# `arcvm call` of a function returning 42, end to end (process start to
# exit), from a boot and from --from-snapshot, each against `arcvm exec --
# true` the same way, measured in the same series: runs alternate among the
# four so that load on the shared machine falls on all alike. The snapshot
# is of the agent's guest once its agent listens (snapctl --vsock-ready), as
# for `arcvm exec --from-snapshot`. Prints the figures; writes call.md and
# call.txt (raw times) to OUT, and with --results FILE rewrites the "CALL"
# section of FILE (bench/RESULTS.md) between its markers.
#
# usage: call_bench.sh BUILD OUT [--runs N] [--results FILE]
# Where this host's KVM cannot boot unmodified Linux (PVM), the series runs in
# the test host (tests/testhost/run), one L1 boot for all of it.
# Environment: CALL_BENCH_TIMEOUT, seconds for the whole test-host run (3000).
set -eu
usage() { echo "usage: call_bench.sh BUILD OUT [--runs N] [--results FILE]" >&2; exit 2; }
[ $# -ge 2 ] || usage
build=$(realpath "$1") out=$2
shift 2
runs=11 results= inside=
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift 2 ;;
	--results) results=$(realpath "${2:?}"); shift 2 ;;
	--inside) inside=1; shift ;;
	*) usage ;;
	esac
done
[ "$runs" -ge 1 ] 2>/dev/null || usage
mkdir -p "$out"
out=$(realpath "$out")
here=$(dirname "$(realpath "$0")")
repo=$(dirname "$(dirname "$here")")
kernel=$build/guest/vmlinux initrd=$build/guest/initrd.cpio.gz
snapctl=$build/tests/snapshot/snapctl
for f in "$build/arcvm" "$kernel" "$initrd" "$snapctl"; do
	[ -r "$f" ] || { echo "call_bench: $f missing (make all guest $snapctl)" >&2; exit 2; }
done

ms() { echo $(( $(date +%s%N) / 1000000 )); }

stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}

# One timed run of "$@" into $out/$name.ms; for call, the output must be 42.
timed() {
	name=$1
	shift
	t0=$(ms)
	"$@" >"$out/$name.log" 2>&1 || {
		echo "call_bench: $* failed:" >&2
		cat "$out/$name.log" >&2
		exit 1
	}
	echo $(( $(ms) - t0 )) >>"$out/$name.ms"
	case $name in call*) [ "$(cat "$out/$name.log")" = 42 ] || {
		echo "call_bench: $name printed $(cat "$out/$name.log"), not 42" >&2
		exit 1
	} ;; esac
}

series() {
	PYTHONPATH=$repo/python /usr/bin/python3 - "$out/answer.ionpack" <<'PY'
import sys
from ionvm import Function, Instruction as I, IonPackBuilder, Value
b = IonPackBuilder("answer", "1.0.0")
b.add_class("Main", Function(name="main", arity=0, extra_regs=1, instructions=[
    I.load_const(0, Value.number(42)), I.return_reg(0)]))
b.main_class("Main")
b.entry_point("main")
b.build(sys.argv[1], for_call=True)
PY
	# The snapshot and its vsock socket live in a local temporary folder:
	# OUT may be a 9p share (the test host's), where a Unix socket cannot be.
	snapdir=$(mktemp -d "${TMPDIR:-/tmp}/call-bench.XXXXXX")
	trap 'rm -rf "$snapdir"' EXIT
	"$snapctl" --kernel "$kernel" --initrd "$initrd" --cmdline \
		"console=ttyS0 reboot=k panic=-1 pci=off quiet arcvm.agent=1 arcvm.modules=1 rdinit=/sbin/arcvm-init" \
		--mem 512M --rng --timeout 600 --vsock "$snapdir/snap.sock" --vsock-ready 1024 \
		--snapshot "$snapdir/snap" >"$out/snapctl.log" 2>&1 || {
		echo "call_bench: snapctl failed:" >&2
		cat "$out/snapctl.log" >&2
		exit 1
	}
	for n in exec call exec_snap call_snap; do : >"$out/$n.ms"; done
	i=0
	while [ $i -lt "$runs" ]; do
		timed exec "$build/arcvm" exec --kernel "$kernel" --initrd "$initrd" -- true
		timed call "$build/arcvm" call --kernel "$kernel" --initrd "$initrd" "$out/answer.ionpack"
		timed exec_snap "$build/arcvm" exec --from-snapshot "$snapdir/snap" -- true
		timed call_snap "$build/arcvm" call --from-snapshot "$snapdir/snap" "$out/answer.ionpack"
		i=$((i + 1))
	done
	set -- $(stats "$out/exec.ms"); e_med=$1 e_min=$2 e_max=$3
	set -- $(stats "$out/call.ms"); c_med=$1 c_min=$2 c_max=$3
	set -- $(stats "$out/exec_snap.ms"); es_med=$1 es_min=$2 es_max=$3
	set -- $(stats "$out/call_snap.ms"); cs_med=$1 cs_min=$2 cs_max=$3
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
	where=$( [ -n "${TESTHOST:-}" ] && echo "in the test host (QEMU TCG L1, nested KVM)" || echo "on this host's KVM")
	{
		echo "## call"
		echo
		echo "\`arcvm call\` of a pack whose entry point returns 42 (printed: \`42\`), process start to"
		echo "exit, from a boot (built-in kernel and initramfs, 512 MiB, 1 vCPU) and from"
		echo "\`--from-snapshot\` (a snapshot of the same guest once its agent listens), each against"
		echo "\`arcvm exec -- true\` started the same way; $runs runs each, the four alternating,"
		echo "$where, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
		echo "Script: \`bench/call/call_bench.sh\` (\`make bench-call\`)."
		echo
		echo "| | median | min | max | call / exec (medians) |"
		echo "|---|---|---|---|---|"
		echo "| arcvm exec -- true (boot) | $e_med ms | $e_min ms | $e_max ms | |"
		echo "| arcvm call answer.ionpack (boot) | $c_med ms | $c_min ms | $c_max ms | **$(ratio "$c_med" "$e_med")** |"
		echo "| arcvm exec --from-snapshot -- true | $es_med ms | $es_min ms | $es_max ms | |"
		echo "| arcvm call --from-snapshot answer.ionpack | $cs_med ms | $cs_min ms | $cs_max ms | **$(ratio "$cs_med" "$es_med")** |"
		echo
		echo "From a snapshot, a call takes $(ratio "$cs_med" "$c_med")x the time of one from a boot."
		echo "What a call adds to exec: opening the pack on the host, the CALL bundle over vsock, the"
		echo "guest decoding and verifying the classes and running the function."
	} >"$out/call.md"
	paste "$out/exec.ms" "$out/call.ms" "$out/exec_snap.ms" "$out/call_snap.ms" >"$out/call.txt"
	cat "$out/call.md"
}

if [ -n "$inside" ]; then
	series
else
	TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/scripts/linux-kvm.sh" \
		--timeout "${CALL_BENCH_TIMEOUT:-3000}" --share-out "$out" -- \
		sh "$here/call_bench.sh" "$build" "$out" --runs "$runs" --inside
	[ -s "$out/call.md" ] || { echo "call_bench: no $out/call.md written" >&2; exit 1; }
fi

if [ -n "$results" ] && [ -z "$inside" ]; then
	"$repo/bench/section.sh" "$results" CALL "$out/call.md"
fi

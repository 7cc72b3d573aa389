#!/bin/sh
# `arcvm call` of a function returning 42, end to end (process start to
# exit), from a boot and from --from-snapshot, each against `arcvm exec --
# true` the same way, measured in the same series: runs alternate among the
# four so that load on the shared machine falls on all alike. The snapshot
# is of the agent's guest once its agent listens (snapctl --vsock-ready), as
# for `arcvm exec --from-snapshot`. Prints the figures; writes call.md and
# rounds.txt (raw times, one line per round) to OUT, and with --results FILE
# rewrites the "CALL" section of FILE (bench/RESULTS.md) between its markers.
#
# usage: call_bench.sh BUILD OUT [--runs N] [--results FILE]
# Where this host's KVM cannot boot unmodified Linux (PVM), the series runs in
# the test host (tests/testhost/run). When the test host stalls or dies, the
# rounds it completed are kept and the series goes on in a fresh one (at most
# four boots); the report says how many boots it took.
# Environment: CALL_BENCH_TIMEOUT, seconds for one test-host run (3000).
set -eu
. "$(dirname "$(realpath "$0")")/../lib.sh"
bench_args call_bench.sh 11 "$@"
snapctl=$build/tests/snapshot/snapctl
for f in "$build/arcvm" "$kernel" "$initrd" "$snapctl"; do
	[ -r "$f" ] || { echo "call_bench: $f missing (make all guest $snapctl)" >&2; exit 2; }
done

# One timed run of "$@" into T (ms); for call, the output must be 42.
timed() {
	name=$1
	shift
	t0=$(ms)
	"$@" >"$out/$name.log" 2>&1 || {
		echo "call_bench: $* failed:" >&2
		cat "$out/$name.log" >&2
		exit 1
	}
	T=$(( $(ms) - t0 ))
	case $name in call*) [ "$(cat "$out/$name.log")" = 42 ] || {
		echo "call_bench: $name printed $(cat "$out/$name.log"), not 42" >&2
		exit 1
	} ;; esac
}

rounds_done() { [ -f "$out/rounds.txt" ] && wc -l <"$out/rounds.txt" || echo 0; }

# Inside one boot of the test host (or right here): make the snapshot, then
# add rounds to $out/rounds.txt, one line "exec call exec_snap call_snap"
# (ms) per complete round, until it holds $runs. A round cut short by a
# stalled test host leaves no line.
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
	while [ "$(rounds_done)" -lt "$runs" ]; do
		timed exec "$build/arcvm" exec --kernel "$kernel" --initrd "$initrd" -- true
		e=$T
		timed call "$build/arcvm" call --kernel "$kernel" --initrd "$initrd" "$out/answer.ionpack"
		c=$T
		timed exec_snap "$build/arcvm" exec --from-snapshot "$snapdir/snap" -- true
		es=$T
		timed call_snap "$build/arcvm" call --from-snapshot "$snapdir/snap" "$out/answer.ionpack"
		echo "$e $c $es $T" >>"$out/rounds.txt"
	done
}

# The report, from $out/rounds.txt; $1 says how many boots of the test host
# the series took.
report() {
	for n in 1 2 3 4; do cut -d' ' -f$n "$out/rounds.txt" >"$out/col$n.ms"; done
	set -- "$1" $(stats "$out/col1.ms"); e_med=$2 e_min=$3 e_max=$4
	set -- "$1" $(stats "$out/col2.ms"); c_med=$2 c_min=$3 c_max=$4
	set -- "$1" $(stats "$out/col3.ms"); es_med=$2 es_min=$3 es_max=$4
	set -- "$1" $(stats "$out/col4.ms"); cs_med=$2 cs_min=$3 cs_max=$4
	rm -f "$out"/col?.ms
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
	where="in the test host (QEMU TCG L1, nested KVM)"
	if "$repo/scripts/linux-kvm.sh" --here; then
		where="on this host's KVM"
	fi
	boots=
	if [ "$1" -gt 1 ]; then
		boots="The series took $1 boots of the test host: $(($1 - 1)) stalled or died, and the rounds
each had completed count (a round cut short does not)."
	fi
	{
		echo "## call"
		echo
		echo "\`arcvm call\` of a pack whose entry point returns 42 (printed: \`42\`), process start to"
		echo "exit, from a boot (built-in kernel and initramfs, 512 MiB, 1 vCPU) and from"
		echo "\`--from-snapshot\` (a snapshot of the same guest once its agent listens), each against"
		echo "\`arcvm exec -- true\` started the same way; $runs runs each, the four alternating,"
		echo "$where, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
		[ -z "$boots" ] || echo "$boots"
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
	cat "$out/call.md"
}

if [ -n "$inside" ]; then
	series
	exit 0
fi
# Up to four boots of the test host: one that stalls or dies (122, 125)
# keeps the rounds it completed and the series goes on in a fresh one.
rm -f "$out/rounds.txt" "$out/call.md"
boots=0
while [ "$(rounds_done)" -lt "$runs" ]; do
	[ "$boots" -lt 4 ] || { echo "call_bench: the test host failed four times; $(rounds_done) of $runs rounds done" >&2; exit 1; }
	boots=$((boots + 1))
	status=0
	TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/scripts/linux-kvm.sh" \
		--timeout "${CALL_BENCH_TIMEOUT:-3000}" --share-out "$out" -- \
		sh "$here/call_bench.sh" "$build" "$out" --runs "$runs" --inside || status=$?
	case $status in
	0) ;;
	122|125) echo "call_bench: the test host failed (status $status) with $(rounds_done) of $runs rounds done; going on in a fresh one" >&2 ;;
	*) exit "$status" ;;
	esac
done
report "$boots"

if [ -n "$results" ]; then
	"$repo/bench/section.sh" "$results" CALL "$out/call.md"
fi

#!/bin/sh
# `arcvm exec -- true` end to end (process start to exit) against QEMU's
# microvm booting the same kernel and initramfs to run the same `true` and
# power off (the initramfs's /init with arcvm.run=true). Runs alternate
# between the two so that load on the shared machine falls on both alike.
# Prints the figures; writes exec.md and exec.txt (raw times) to OUT, and
# with --results FILE rewrites the "exec" section of FILE (bench/RESULTS.md)
# between its markers.
#
# usage: exec_bench.sh BUILD OUT [--runs N] [--results FILE]
#   BUILD  the build folder (arcvm, guest/vmlinux, guest/initrd.cpio.gz)
#   OUT    folder for the results
# Where this host's KVM cannot boot unmodified Linux (PVM), the series runs in
# the test host (tests/testhost/run), one L1 boot for all of it.
# Environment: EXEC_BENCH_TIMEOUT, seconds for the whole test-host run (3000).
set -eu
. "$(dirname "$(realpath "$0")")/../lib.sh"
bench_args exec_bench.sh 21 "$@"
for f in "$build/arcvm" "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "exec_bench: $f missing (make all guest)" >&2; exit 2; }
done

series() {
	: >"$out/arcvm.ms"
	: >"$out/qemu.ms"
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(ms)
		"$build/arcvm" exec --kernel "$kernel" --initrd "$initrd" -- true \
			>"$out/arcvm.log" 2>&1 || {
			echo "exec_bench: arcvm exec -- true failed:" >&2
			cat "$out/arcvm.log" >&2
			exit 1
		}
		echo $(( $(ms) - t0 )) >>"$out/arcvm.ms"
		t0=$(ms)
		MICROVM_MEM=512M "$repo/bench/qemu/microvm-boot.sh" "$kernel" "$initrd" \
			quiet arcvm.run=true >"$out/qemu.log" 2>&1 || true
		t1=$(ms)
		grep -q 'ARCVM-RUN-EXIT=0' "$out/qemu.log" || {
			echo "exec_bench: QEMU microvm did not run true:" >&2
			cat "$out/qemu.log" >&2
			exit 1
		}
		echo $(( t1 - t0 )) >>"$out/qemu.ms"
		i=$((i + 1))
	done
	set -- $(stats "$out/arcvm.ms")
	a_med=$1 a_min=$2 a_max=$3
	set -- $(stats "$out/qemu.ms")
	q_med=$1 q_min=$2 q_max=$3
	ratio=$(awk -v a="$a_med" -v q="$q_med" 'BEGIN { printf "%.2f", a / q }')
	where=$( [ -n "${TESTHOST:-}" ] && echo "in the test host (QEMU TCG L1, nested KVM)" || echo "on this host's KVM")
	{
		echo "## exec"
		echo
		echo "\`arcvm exec -- true\`, process start to exit, against QEMU \`-M microvm\` booting the same"
		echo "kernel (\`vmlinux\`) and initramfs with \`arcvm.run=true\` and powering off (512 MiB, 1 vCPU"
		echo "each); $runs runs each, alternating, $where,"
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
		echo "Script: \`bench/exec/exec_bench.sh\` (\`make bench-exec\`)."
		echo
		echo "| | median | min | max |"
		echo "|---|---|---|---|"
		echo "| arcvm exec -- true | $a_med ms | $a_min ms | $a_max ms |"
		echo "| QEMU microvm, arcvm.run=true | $q_med ms | $q_min ms | $q_max ms |"
		echo
		echo "Ratio of medians arcvm / QEMU: **$ratio** (target: at most 0.7)."
	} >"$out/exec.md"
	paste "$out/arcvm.ms" "$out/qemu.ms" >"$out/exec.txt"
	cat "$out/exec.md"
}

if [ -n "$inside" ]; then
	series
else
	TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/scripts/linux-kvm.sh" \
		--timeout "${EXEC_BENCH_TIMEOUT:-3000}" --share-out "$out" -- \
		sh "$here/exec_bench.sh" "$build" "$out" --runs "$runs" --inside
	[ -s "$out/exec.md" ] || { echo "exec_bench: no $out/exec.md written" >&2; exit 1; }
fi

# The section between its markers, on the host (the tree is read-only in the test host).
if [ -n "$results" ] && [ -z "$inside" ]; then
	"$repo/bench/section.sh" "$results" EXEC "$out/exec.md"
fi

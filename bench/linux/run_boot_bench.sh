#!/bin/sh
# Starts the test host once and runs bench/linux/boot_bench.py inside it: the
# whole boot series (and the profile boots) in one L1 boot, so every figure
# in a table comes from the same machine state. Results land in OUT.
#
# usage: run_boot_bench.sh BUILD OUT [boot_bench.py options...]
#   BUILD  the build folder (arcvm, guest/, bench/vmmrun, testhost/)
#   OUT    folder for boot.json, boot.md and the consoles (made writable inside)
# Environment: BOOT_BENCH_TIMEOUT, seconds for the whole test-host run (2400).
# boot_bench.py writes its results after every round: when the run is cut
# short, the rounds done so far are kept and this script says so.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: run_boot_bench.sh BUILD OUT [boot_bench.py options...]" >&2
	exit 2
fi
build=$(realpath "$1") out=$2
shift 2
mkdir -p "$out"
out=$(realpath "$out")
rm -f "$out/boot.json" "$out/boot.md"
here=$(dirname "$(realpath "$0")")
repo=$(dirname "$(dirname "$here")")
for f in "$build/arcvm" "$build/guest/vmlinux" "$build/guest/vmlinuz" \
		"$build/guest/initrd.cpio.gz" "$build/bench/vmmrun"; do
	[ -r "$f" ] || { echo "run_boot_bench: $f missing (make all guest bench-tools)" >&2; exit 2; }
done
# The test host's run tool comes from the tree; TESTHOST_BUILD says where its
# kernel and L1 initramfs are.
status=0
TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/tests/testhost/run" \
	--timeout "${BOOT_BENCH_TIMEOUT:-2400}" --share-out "$out" -- \
	/usr/bin/python3 "$here/boot_bench.py" \
	--arcvm "$build/arcvm" --vmlinux "$build/guest/vmlinux" --bzimage "$build/guest/vmlinuz" \
	--initrd "$build/guest/initrd.cpio.gz" --vmmrun "$build/bench/vmmrun" --out "$out" "$@" ||
	status=$?
[ -s "$out/boot.json" ] || { echo "run_boot_bench: no $out/boot.json written (status $status)" >&2; exit 1; }
if [ "$status" -ne 0 ]; then
	echo "run_boot_bench: the test host run ended with status $status;" \
		"keeping the rounds in $out/boot.json" >&2
fi

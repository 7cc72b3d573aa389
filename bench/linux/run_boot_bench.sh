#!/bin/sh
# Starts the test host once and runs bench/linux/boot_bench.py inside it: the
# whole boot series (and the profile boots) in one L1 boot, so every figure
# in a table comes from the same machine state. Results land in OUT.
#
# usage: run_boot_bench.sh BUILD OUT [boot_bench.py options...]
#   BUILD  the build folder (arcvm, guest/, bench/vmmrun, testhost/)
#   OUT    folder for boot.json, boot.md and the consoles (made writable inside)
# Environment: BOOT_BENCH_TIMEOUT, seconds for the whole test-host run (1500).
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
TESTHOST_BUILD=${TESTHOST_BUILD:-$build} "$repo/tests/testhost/run" \
	--timeout "${BOOT_BENCH_TIMEOUT:-1500}" --share-out "$out" -- \
	/usr/bin/python3 "$here/boot_bench.py" \
	--arcvm "$build/arcvm" --vmlinux "$build/guest/vmlinux" --bzimage "$build/guest/vmlinuz" \
	--initrd "$build/guest/initrd.cpio.gz" --vmmrun "$build/bench/vmmrun" --out "$out" "$@"
[ -s "$out/boot.json" ] || { echo "run_boot_bench: no $out/boot.json written" >&2; exit 1; }

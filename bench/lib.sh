# lib.sh - what the shell benchmarks that boot Linux guests share; sourced.
#
# bench_args NAME DEFAULT_RUNS "$@" parses "BUILD OUT [--runs N] [--results
# FILE] [--inside]" and sets build, out (made, absolute), runs, results,
# inside, here (the script's folder), repo, kernel and initrd (the built-in
# guest's); a bad command line prints NAME's usage and exits 2.

bench_args() {
	_name=$1 runs=$2
	shift 2
	_usage="usage: $_name BUILD OUT [--runs N] [--results FILE]"
	[ $# -ge 2 ] || { echo "$_usage" >&2; exit 2; }
	build=$(realpath "$1") out=$2
	shift 2
	results= inside=
	while [ $# -gt 0 ]; do
		case "$1" in
		--runs) runs=${2:?}; shift 2 ;;
		--results) results=$(realpath "${2:?}"); shift 2 ;;
		--inside) inside=1; shift ;;
		*) echo "$_usage" >&2; exit 2 ;;
		esac
	done
	[ "$runs" -ge 1 ] 2>/dev/null || { echo "$_usage" >&2; exit 2; }
	mkdir -p "$out"
	out=$(realpath "$out")
	here=$(dirname "$(realpath "$0")")
	repo=$(dirname "$(dirname "$here")")
	kernel=$build/guest/vmlinux initrd=$build/guest/initrd.cpio.gz
}

# Milliseconds on a clock that only goes forward for intervals.
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Median, min and max of the numbers in a file, one a line.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}

#!/bin/sh
# Rewrites one section of a results file (bench/RESULTS.md): the lines
# between <!-- BEGIN NAME --> and <!-- END NAME --> become the contents of
# MD; the rest of the file is kept as it is. The markers are appended when
# the file lacks them, and the file is created when missing.
# usage: section.sh RESULTS NAME MD
set -eu
[ $# -eq 3 ] || { echo "usage: section.sh RESULTS NAME MD" >&2; exit 2; }
results=$1 name=$2 md=$3
[ -f "$results" ] || printf '# Benchmark results\n' >"$results"
if ! grep -q "<!-- BEGIN $name -->" "$results"; then
	printf '\n<!-- BEGIN %s -->\n<!-- END %s -->\n' "$name" "$name" >>"$results"
fi
awk -v md="$md" -v begin="<!-- BEGIN $name -->" -v end="<!-- END $name -->" '
	$0 == begin { print; while ((getline l < md) > 0) print l; skip = 1; next }
	$0 == end { skip = 0 }
	!skip' "$results" >"$results.tmp"
mv "$results.tmp" "$results"

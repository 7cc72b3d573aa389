#!/bin/sh
# Runs the IonVM cmocka binaries and prints one closing line counting the
# individual tests: "ion: N passed, N failed". Exits non-zero on any failure.
set -u
passed=0; failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
	# A binary that crashed or failed without a cmocka summary still counts.
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); echo "CRASHED: $t"; fi
done
echo "ion: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

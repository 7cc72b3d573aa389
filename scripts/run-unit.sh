#!/bin/sh
# Runs each unit-test binary and prints one closing line for the whole set.
# Exits non-zero when any binary fails.
set -u
passed=0; failed=0
for t in "$@"; do
	if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

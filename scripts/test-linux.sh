#!/bin/sh
# Runs the Linux tier (pytest, Debian's unmodified kernel). Where this host's
# KVM cannot boot unmodified Linux (PVM, or no /dev/kvm at all), the tests run
# inside the test host, a QEMU TCG VM with nested KVM (docs/testhost.md).
#
# In the test host, and only there, two faults of the emulator are absorbed,
# and both are reported on stderr, never hidden:
#   - L1 stalls or dies (status 122 or 125, see tests/testhost/run): that
#     test file runs again in a fresh test host, at most three times in all.
#     Each file of a directory argument gets its own test host, so a stall
#     costs one file, not the tier.
#   - an L2 guest dies at random (a double or triple fault during boot, seen
#     about once per full tier): a failed test is run once more
#     (pytest-rerunfailures); it counts as passed only if the rerun passes,
#     and the summary lists it as RERUN.
# On hardware KVM neither applies: pytest runs once, as is.
set -eu
cd "$(dirname "$0")/.."
PYTEST="/usr/bin/python3 -m pytest -p no:cacheprovider -q -rs"
export PYTHONDONTWRITEBYTECODE=1
if scripts/linux-kvm.sh --here; then
	exec $PYTEST "$@"
fi
echo "test-linux: this host's KVM cannot boot unmodified Linux; running in the test host"

# in_testhost ARGS...: pytest ARGS in a test host; in a fresh one, up to
# twice more, while the test host itself fails. Returns pytest's status.
in_testhost() {
	attempt=1
	while :; do
		status=0
		tests/testhost/run -- $PYTEST -rR --reruns 1 "$@" || status=$?
		# 122: L1 stalled; 125: the test host died (L1's kernel panicked, as
		# QEMU's TCG has made it do) or failed to set up. pytest never exits 12x.
		if [ "$status" -ne 122 ] && [ "$status" -ne 125 ] || [ "$attempt" -ge 3 ]; then
			return "$status"
		fi
		echo "test-linux: the test host failed during $* (status $status: an emulator fault, not a test result); running it again" >&2
		attempt=$((attempt + 1))
	done
}

# A directory (and pytest options after it): one test host per file in it.
if [ $# -ge 1 ] && [ -d "$1" ]; then
	dir=$1
	shift
	failed=""
	for file in "$dir"/test_*.py; do
		echo "test-linux: $file"
		status=0
		in_testhost "$file" "$@" || status=$?
		# 5: pytest selected no test in the file (all deselected)
		[ "$status" -eq 0 ] || [ "$status" -eq 5 ] || failed="$failed ${file##*/}"
	done
	if [ -n "$failed" ]; then
		echo "test-linux: FAILED:$failed" >&2
		exit 1
	fi
	echo "test-linux: every file passed"
	exit 0
fi
in_testhost "$@"

#!/bin/sh
# linux-kvm.sh [RUN-OPTION]... -- CMD [ARG]...
#
# Runs CMD where Debian's unmodified kernel boots under KVM: right here when
# this host's /dev/kvm is hardware KVM, otherwise (PVM, or no /dev/kvm) inside
# the test host, tests/testhost/run, which gets the RUN-OPTIONs (--timeout,
# --mem, --share-out, ...; see docs/testhost.md). Exits with CMD's status, or
# with the test host's own (122 stalled, 124 timed out, ...).
#
# linux-kvm.sh --here: exits 0 when Linux boots right here, 1 when it needs
# the test host.
#
# The benchmarks and `make run` start their Linux guests through this script
# so that the one decision, and the line that reports it, live in one place.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)

here() { [ -e /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ]; }

if [ "${1:-}" = --here ]; then
	if here; then exit 0; fi
	exit 1
fi
case " $* " in
*" -- "*) ;;
*) echo "usage: linux-kvm.sh [RUN-OPTION]... -- CMD [ARG]..." >&2; exit 2 ;;
esac
if here; then
	while [ "$1" != -- ]; do shift; done
	shift
	exec "$@"
fi
echo "${0##*/}: this host's KVM cannot boot unmodified Linux; running in the test host" >&2
exec "$repo/tests/testhost/run" "$@"

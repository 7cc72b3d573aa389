#!/bin/sh
# Runs the Linux tier (pytest, Debian's unmodified kernel). Where this host's
# KVM cannot boot unmodified Linux (PVM, or no /dev/kvm at all), the tests run
# inside the test host, a QEMU TCG VM with nested KVM (docs/testhost.md).
set -eu
cd "$(dirname "$0")/.."
PYTEST="/usr/bin/python3 -m pytest -p no:cacheprovider -q -rs"
export PYTHONDONTWRITEBYTECODE=1
if [ -e /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ]; then
	exec $PYTEST "$@"
fi
echo "test-linux: this host's KVM cannot boot unmodified Linux; running in the test host"
exec tests/testhost/run -- $PYTEST "$@"

#!/bin/sh
# `make run`: boot the built-in guest (Debian's kernel + arcvm's initramfs),
# which prints its kernel version, vCPU count and memory, then powers off.
# On a PVM host, which cannot boot unmodified Linux, it boots inside the
# test host instead and says so.
set -eu
cd "$(dirname "$0")/.."
ARCVM=${ARCVM:-build/arcvm}
if ! scripts/linux-kvm.sh --here; then
	echo "run: /dev/kvm here is PVM, which cannot boot an unmodified Linux kernel;"
	echo "run: booting the micro-VM inside the test host (nested KVM under QEMU TCG, slower)"
fi
exec scripts/linux-kvm.sh -- "$ARCVM" run --cpus 2 --mem 512M "$@"

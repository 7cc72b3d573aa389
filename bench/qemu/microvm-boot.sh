#!/bin/sh
# The QEMU microvm anchor: boots KERNEL with INITRD under KVM with the same
# flags every time, so arcvm's boot can be compared with QEMU's in one run.
# Prints nothing but the guest's console output (QEMU's own messages only
# when it fails). Needs a /dev/kvm that boots unmodified Linux: on PVM run
# it inside the test host (tests/testhost/run -- bench/qemu/microvm-boot.sh ...).
#
# Usage: microvm-boot.sh KERNEL INITRD [APPEND...]
#   KERNEL  a bzImage, or the ELF vmlinux (QEMU boots it by its PVH note,
#           skipping in-guest decompression)
#   APPEND  words added to the kernel command line (default: quiet)
# Environment: QEMU (binary), MICROVM_MEM (256M), MICROVM_CPUS (1),
#   MICROVM_TIMEOUT (300 s; QEMU is killed then and the status is 124),
#   MICROVM_ARGS (more QEMU arguments, split on spaces: devices to compare).
#
# The flags, and why:
#   -M microvm,...     QEMU's minimal machine: no PCI, no firmware tables
#                      beyond ACPI; x-option-roms=off skips option ROMs,
#                      pit=off and pic=off drop the 8254 and the 8259 (the
#                      kernel uses the LAPIC timer and the IOAPIC),
#                      isa-serial=on keeps ttyS0 for the console. rtc=on
#                      keeps the CMOS RTC: without it Debian's kernel probes
#                      the missing chip for seconds (4-5 s of a ~7 s nested
#                      boot in the test host). ACPI stays on: Linux powers
#                      the machine off through it (without it `poweroff -f`
#                      only halts and QEMU never exits).
#   -enable-kvm -cpu host   hardware virtualisation, the host's CPU model
#   -nodefaults -no-user-config -display none   no devices or config beyond
#                      these flags
#   -serial stdio      the console is our stdout; stdin is /dev/null
#   -no-reboot         a guest reboot or panic (panic=-1) ends QEMU
#   console=ttyS0 panic=-1   base kernel command line
set -eu
if [ $# -lt 2 ]; then
	echo "usage: microvm-boot.sh KERNEL INITRD [APPEND...]" >&2
	exit 2
fi
kernel=$1 initrd=$2
shift 2
append="console=ttyS0 panic=-1 ${*:-quiet}"
for f in "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "microvm-boot: cannot read $f" >&2; exit 2; }
done
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
status=0
timeout -k 5 "${MICROVM_TIMEOUT:-300}" "${QEMU:-qemu-system-x86_64}" \
	-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on,isa-serial=on \
	-enable-kvm -cpu host -m "${MICROVM_MEM:-256M}" -smp "${MICROVM_CPUS:-1}" \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" ${MICROVM_ARGS:-} \
	</dev/null 2>"$errlog" || status=$?
if [ "$status" -ne 0 ]; then
	[ "$status" -eq 124 ] && echo "microvm-boot: QEMU killed after ${MICROVM_TIMEOUT:-300} s" >&2
	cat "$errlog" >&2
fi
exit "$status"

/*
 * firmware.S - the native benchmark's guest: a 64 KiB real-mode firmware
 * image, booted unchanged by `arcvm run --bios` and `qemu -M microvm -bios`.
 * It makes LOOPS port writes to an unclaimed port (each one a full exit to
 * the VMM and back), then writes S5|SLP_EN to port 0x600: arcvm's ACPI sleep
 * register, and QEMU's isa-debug-exit when placed there. Either VMM exits.
 */
#ifndef LOOPS
#define LOOPS 0
#endif
	.code16
	.section .text
entry:
	mov $LOOPS, %ecx
	test %ecx, %ecx
	jz done
1:	out %al, $0xe8
	dec %ecx
	jnz 1b
done:
	mov $0x600, %dx
	mov $0x34, %al
	out %al, %dx
	hlt
	jmp done

	.org 0xfff0
	ljmp $0xf000, $entry
	.org 0x10000

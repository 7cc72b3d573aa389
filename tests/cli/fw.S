/*
 * fw.S - 64 KiB real-mode firmware images for the CLI tests, booted with
 * `arcvm run --bios`. One image per VARIANT:
 *   HELLO   prints "hello from firmware" on COM1, then ACPI poweroff
 *   ECHO    echoes COM1 input back until it reads '.', then ACPI poweroff
 *   SPIN    loops forever (the host has to stop it)
 *   RESET   asks the i8042 for a reset
 *   TRIPLE  an exception with an empty IDT: a triple fault
 */
#define COM1 0x3f8
	.code16
	.section .text
entry:
	mov %cs, %ax
	mov %ax, %ds
#if defined(HELLO)
	mov $msg, %si
1:	lodsb
	test %al, %al
	jz poweroff
	mov $COM1, %dx
	out %al, %dx
	jmp 1b
#elif defined(ECHO)
	mov $COM1 + 1, %dx
	mov $1, %al              /* IER: receive data available (the UART then accepts input) */
	out %al, %dx
1:	mov $COM1 + 5, %dx       /* LSR: wait for data ready */
	in %dx, %al
	test $1, %al
	jz 1b
	mov $COM1, %dx
	in %dx, %al
	out %al, %dx
	cmp $'.', %al
	jne 1b
	jmp poweroff
#elif defined(SPIN)
1:	jmp 1b
#elif defined(RESET)
	mov $0xfe, %al
	out %al, $0x64
	hlt
#elif defined(TRIPLE)
	/* Protected mode with an empty IDT, then #UD: no handler, shutdown. */
	cli
	lidt empty_idt
	lgdtl gdt_ptr
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $0xf0000 + pm32
	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	ud2
	.code16
#endif
poweroff:
	mov $0x600, %dx
	mov $0x34, %al           /* SLP_TYP 5 | SLP_EN */
	out %al, %dx
	hlt
	jmp poweroff

msg:	.asciz "hello from firmware\n"
empty_idt:
	.word 0
	.long 0
	.p2align 3
gdt:	.quad 0
	.quad 0x00cf9a000000ffff    /* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff    /* 0x10: flat data */
gdt_ptr:
	.word gdt_ptr - gdt - 1
	.long 0xf0000 + gdt

	.org 0xfff0
	ljmp $0xf000, $entry
	.org 0x10000
	.section .note.GNU-stack, "", @progbits

/*
 * guest_code.S - tiny guests for the native tier, assembled into the test
 * binary and copied into guest memory (never run on the host). Each snippet
 * sits between NAME_start and NAME_end.
 *
 * Real-mode snippets are loaded at RM_LOAD (0x1000) and entered at 0:0x1000;
 * 64-bit snippets are loaded at LM_LOAD (0x100000) in an identity-mapped
 * address space. Port 0xE0 is the tests' "result" port, served by an exit
 * handler the test registers.
 */
#define SNIPPET(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:

	.section .rodata.guests, "a"

	.code16
/* Writes 0x42 to the result port, then halts. */
SNIPPET(rm_out)
	mov $0x42, %al
	out %al, $0xe0
	hlt
END(rm_out)

/* Reads a 32-bit value from port 0xE4, adds 1, writes it to the result port. */
SNIPPET(rm_in_add)
	in $0xe4, %eax
	inc %eax
	out %eax, $0xe0
	hlt
END(rm_in_add)

/* Prints "hi\n" on COM1. */
SNIPPET(rm_uart_hello)
	mov $0x3f8, %dx
	mov $'h', %al
	out %al, %dx
	mov $'i', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
	hlt
END(rm_uart_hello)

/* rep outsb of 5 bytes at 0x2000 to the result port. */
SNIPPET(rm_outsb)
	mov $0x2000, %si
	mov $5, %cx
	mov $0xe0, %dx
	cld
	rep outsb
	hlt
END(rm_outsb)

/* Asks the i8042 to pulse the reset line. */
SNIPPET(rm_i8042_reset)
	mov $0xfe, %al
	out %al, $0x64
	hlt
END(rm_i8042_reset)

/* ACPI poweroff: SLP_TYP 5 with SLP_EN to the sleep control register. */
SNIPPET(rm_acpi_poweroff)
	mov $0x600, %dx
	mov $((5 << 2) | 0x20), %al
	out %al, %dx
	hlt
END(rm_acpi_poweroff)

/* Spins forever, bumping a 32-bit counter at 0x3000. */
SNIPPET(rm_count_forever)
1:	incl 0x3000
	jmp 1b
END(rm_count_forever)

/* Counts loop turns at 0x3000; each turn reads port 0xE4, whose handler
 * answers 0x5a5a5a5a, and counts at 0x3004 any read that came back as
 * anything else (a port read lost across a pause or snapshot). */
SNIPPET(rm_count_in)
1:	xor %eax, %eax
	in $0xe4, %eax
	cmp $0x5a5a5a5a, %eax
	je 2f
	incl 0x3004
2:	incl 0x3000
	jmp 1b
END(rm_count_in)

/* Computes 6*7 into EAX and EBX = value read from 0x2000, then halts. */
SNIPPET(rm_regs)
	mov $6, %eax
	mov $7, %ecx
	mul %ecx
	mov 0x2000, %ebx
	movl $0xc0ffee, 0x2004
	hlt
END(rm_regs)

	.code64
/* MMIO: writes 0xdeadbeef to 0xd0000000, reads 0xd0000008 into EAX, and
 * sends it to the result port. */
SNIPPET(lm_mmio)
	movabs $0xd0000000, %rbx
	movl $0xdeadbeef, (%rbx)
	movl 8(%rbx), %eax
	out %eax, $0xe0
	hlt
END(lm_mmio)

/* An undefined instruction with no IDT: a triple fault. */
SNIPPET(lm_ud2)
	ud2
END(lm_ud2)

/* One port write, then N round trips through port 0xE8, N read from 0x2000. */
SNIPPET(lm_pio_loop)
	out %al, $0xe0
	mov 0x2000, %rcx
1:	out %al, $0xe8
	dec %rcx
	jnz 1b
	hlt
END(lm_pio_loop)
/* Shared memory at 4 GiB (mapped by the test's page-table entries): sends
 * the 32-bit word at 4 GiB to the result port, stores 0x5ca1ab1e at 4 GiB + 8. */
SNIPPET(lm_shm)
	movabs $0x100000000, %rbx
	movl (%rbx), %eax
	out %eax, $0xe0
	movl $0x5ca1ab1e, 8(%rbx)
	hlt
END(lm_shm)
	.section .note.GNU-stack, "", @progbits

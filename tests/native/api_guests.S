/*
 * api_guests.S - tiny 64-bit guests for the library API tests (test_api.c),
 * loaded at LM_LOAD in an identity-mapped address space like the snippets in
 * guest_code.S. Port 0xE0 is the result port.
 */
#define SNIPPET(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:

#define REGION_GPA 0x40000000   /* keep in step with test_api.c */

	.section .rodata.guests, "a"
	.code64

/* Reads the region's first word and the word at +0x1000, stores 0x600dcafe at
 * +0x2000 and reads it back, sending each value to the result port. On a
 * read-only region the store is an MMIO exit and the read-back shows the
 * region's own bytes. */
SNIPPET(lm_region)
	mov $REGION_GPA, %ebx
	mov (%rbx), %eax
	out %eax, $0xe0
	mov 0x1000(%rbx), %eax
	out %eax, $0xe0
	movl $0x600dcafe, 0x2000(%rbx)
	mov 0x2000(%rbx), %eax
	out %eax, $0xe0
	hlt
END(lm_region)

/* Spins until the region's first word reads 0x5a5a5a5a (an unmapped address
 * reads as all ones), then sends it to the result port: proves a region
 * mapped while the VM is paused is seen once it resumes. */
SNIPPET(lm_wait_region)
	mov $REGION_GPA, %ebx
1:	mov (%rbx), %eax
	cmp $0x5a5a5a5a, %eax
	jne 1b
	out %eax, $0xe0
	hlt
END(lm_wait_region)

/*
 * Interrupts through the in-kernel irqchip: vector 0x40 (sent as an MSI) and
 * vector 0x41 (IOAPIC pin 3) each send their number to the result port. The
 * guest builds an IDT at 0x4000, software-enables its LAPIC, masks the
 * 8259 PICs, routes IOAPIC pin 3, says "ready" (1 on the result port) and halts with interrupts on; KVM wakes
 * it for each interrupt.
 */
#define IDT 0x4000
#define IDTR 0x5000
#define LAPIC 0xfee00000
#define IOAPIC 0xfec00000

/* Fills IDT entry `vec` with a 64-bit interrupt gate to `handler`. */
.macro gate vec, handler
	lea \handler(%rip), %rax
	mov $(IDT + \vec * 16), %edi
	mov %ax, (%rdi)
	movw $0x10, 2(%rdi)          /* the boot GDT's 64-bit code selector */
	movw $0x8e00, 4(%rdi)        /* present, DPL 0, interrupt gate */
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
.endm

SNIPPET(lm_irq)
	gate 0x40, 1f
	gate 0x41, 2f
	movw $(0x42 * 16 - 1), IDTR
	movq $IDT, IDTR + 2
	lidt IDTR
	mov $LAPIC, %ebx
	movl $0x1ff, 0xf0(%rbx)      /* SVR: APIC software-enabled, spurious vector 0xff */
	mov $0xff, %al               /* mask the 8259s: GSI 3 reaches them too, and */
	out %al, $0x21               /* through LINT0 (ExtINT) they would send vector 3 */
	out %al, $0xa1
	mov $IOAPIC, %ecx
	movl $0x16, (%rcx)           /* IOREGSEL: pin 3, low half */
	movl $0x41, 0x10(%rcx)       /* vector 0x41, fixed, edge, unmasked */
	movl $0x17, (%rcx)           /* pin 3, high half */
	movl $0, 0x10(%rcx)          /* destination APIC 0 */
	sti
	mov $1, %eax
	out %eax, $0xe0
3:	hlt
	jmp 3b
1:	mov $0x40, %eax
	jmp 4f
2:	mov $0x41, %eax
4:	out %eax, $0xe0
	movl $0, 0xb0(%rbx)          /* EOI */
	iretq
END(lm_irq)
	.section .note.GNU-stack, "", @progbits

/*
 * guest.S - a tiny ELF "kernel" for the API's host-side tests: entered in
 * 64-bit mode by the Linux boot path (so `arcvm api --allow-pvm` can start
 * it on any /dev/kvm, PVM included), it prints one line on COM1 and halts
 * with interrupts off, staying Running without using the host's CPU.
 */
	.code64
	.text
	.globl _start
_start:
	lea	msg(%rip), %rsi
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	cli
	hlt
	jmp	2b
msg:
	.asciz	"arcvm-api-guest ready\n"

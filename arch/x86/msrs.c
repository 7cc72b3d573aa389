/*
 * msrs.c - the MSR values a vCPU starts Linux (or a raw guest) with: the
 * system-call MSRs cleared, fast strings on, and write-back as the default
 * memory type, since there is no firmware to program MTRRs.
 */
#include "arch/x86/x86.h"

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1A0
#define MSR_MTRR_DEF_TYPE     0x2FF
#define MSR_STAR              0xC0000081
#define MSR_LSTAR             0xC0000082
#define MSR_CSTAR             0xC0000083
#define MSR_SYSCALL_MASK      0xC0000084
#define MSR_KERNEL_GS_BASE    0xC0000102

#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE             (1ull << 11)
#define MTRR_TYPE_WRBACK        6ull

/* The TSC is left out on purpose: KVM starts it at 0 and keeps the vCPUs'
 * TSCs in step; writing it would only add skew between vCPUs. */
static const struct { uint32_t index; uint64_t data; } boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
	{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK },
};

int x86_boot_msrs(struct kvm_msr_entry *out, int max)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(boot_msrs) / sizeof(boot_msrs[0]) && n < max; i++, n++)
		out[n] = (struct kvm_msr_entry){ .index = boot_msrs[i].index,
						 .data = boot_msrs[i].data };
	return n;
}

/*
 * cpuid.c - turning KVM's supported CPUID list into what one vCPU reports:
 * its APIC ID, the hypervisor bit, and a topology of one package with
 * `ncpus` cores of one thread each (so the guest's scheduler sees no SMT
 * siblings that do not exist).
 *
 * Leaves not named here (including KVM's paravirtual 0x40000000 range) are
 * passed through as KVM gave them.
 */
#include <stdbool.h>
#include <string.h>

#include "arch/x86/x86.h"

#define LEAF_VENDOR      0x0
#define LEAF_FEATURES    0x1
#define LEAF_CACHE       0x4
#define LEAF_TOPOLOGY    0xB
#define LEAF_TOPOLOGY_V2 0x1F
#define LEAF_AMD_SIZES   0x80000008
#define LEAF_AMD_TOPO    0x8000001E

#define FEAT_ECX_HYPERVISOR (1u << 31)
#define FEAT_EDX_HTT        (1u << 28)

/* Level types in ECX[15:8] of leaves 0xB and 0x1F. */
#define TOPO_LEVEL_INVALID 0
#define TOPO_LEVEL_SMT     1
#define TOPO_LEVEL_CORE    2

/* Bits needed to number n things: ceil(log2(n)), 0 for n <= 1. */
static uint32_t id_bits(int n)
{
	uint32_t shift = 0;

	while ((1u << shift) < (uint32_t)n)
		shift++;
	return shift;
}

static bool vendor_is_amd(const struct kvm_cpuid2 *cpuid)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function != LEAF_VENDOR)
			continue;
		char v[12];
		memcpy(v, &e->ebx, 4);
		memcpy(v + 4, &e->edx, 4);
		memcpy(v + 8, &e->ecx, 4);
		return memcmp(v, "AuthenticAMD", 12) == 0 || memcmp(v, "HygonGenuine", 12) == 0;
	}
	return false;
}

static void set_features(struct kvm_cpuid_entry2 *e, int cpu, int ncpus)
{
	/* EBX[31:24] initial APIC ID, [23:16] logical processors in the package;
	 * [15:0] (CLFLUSH size, brand) stay as KVM gave them. */
	e->ebx = (e->ebx & 0xffffu) | ((uint32_t)cpu << 24) | ((uint32_t)ncpus << 16);
	e->ecx |= FEAT_ECX_HYPERVISOR;
	if (ncpus > 1)
		e->edx |= FEAT_EDX_HTT;
	else
		e->edx &= ~FEAT_EDX_HTT;
}

/* Intel deterministic cache parameters: EAX[31:26] cores in the package - 1,
 * EAX[25:14] logical processors sharing the cache - 1 (L1/L2 are per core,
 * L3 is shared by the package). */
static void set_cache(struct kvm_cpuid_entry2 *e, int ncpus)
{
	uint32_t level = (e->eax >> 5) & 7;
	uint32_t cores = ncpus > 64 ? 64 : (uint32_t)ncpus;
	uint32_t sharing = level >= 3 ? (uint32_t)ncpus : 1;

	if ((e->eax & 0x1f) == 0)
		return;  /* "no more caches" marker */
	e->eax = (e->eax & 0x3fffu) | ((cores - 1) << 26) | (((sharing - 1) & 0xfff) << 14);
}

static void set_topology(struct kvm_cpuid_entry2 *e, int cpu, int ncpus)
{
	e->edx = (uint32_t)cpu;  /* x2APIC ID, the same in every subleaf */
	switch (e->index) {
	case 0:
		e->eax = 0;  /* one thread per core: no bits of SMT ID */
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | 0;
		break;
	case 1:
		e->eax = id_bits(ncpus);
		e->ebx = (uint32_t)ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = (TOPO_LEVEL_INVALID << 8) | (e->index & 0xff);
		break;
	}
}

/* AMD: 0x80000008 ECX[7:0] cores - 1, [15:12] APIC ID bits for the core;
 * 0x8000001E EAX extended APIC ID, EBX[15:8] threads per core - 1 and
 * [7:0] core ID, ECX node ID 0 of 1 node. */
static void set_amd(struct kvm_cpuid_entry2 *e, int cpu, int ncpus)
{
	if (e->function == LEAF_AMD_SIZES) {
		e->ecx = (e->ecx & ~0xf0ffu) | (id_bits(ncpus) << 12) | (uint32_t)(ncpus - 1);
	} else {
		e->eax = (uint32_t)cpu;
		e->ebx = (e->ebx & ~0xffffu) | ((uint32_t)cpu & 0xff);
		e->ecx &= ~0x7ffu;
	}
}

void x86_cpuid_setup(struct kvm_cpuid2 *cpuid, int cpu, int ncpus)
{
	bool amd = vendor_is_amd(cpuid);

	if (ncpus < 1)
		ncpus = 1;
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		switch (e->function) {
		case LEAF_FEATURES:
			set_features(e, cpu, ncpus);
			break;
		case LEAF_CACHE:
			set_cache(e, ncpus);
			break;
		case LEAF_TOPOLOGY:
		case LEAF_TOPOLOGY_V2:
			set_topology(e, cpu, ncpus);
			break;
		case LEAF_AMD_SIZES:
		case LEAF_AMD_TOPO:
			if (amd)
				set_amd(e, cpu, ncpus);
			break;
		default:
			break;
		}
	}
}

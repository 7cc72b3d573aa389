/* cpu_state.c - x86 vCPU and VM-wide snapshot state (see cpu_state.h). */
#include "arch/x86/cpu_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define TAG_VCPU SNAP_TAG('V', 'C', 'P', 'U')
#define TAG_VMST SNAP_TAG('V', 'M', 'S', 'T')
#define MAX_MSRS 1024u
#define MAX_XSAVE (64u << 10)

int x86_msr_list_get(const struct kvm_sys *sys, struct x86_msr_list *l, struct arcvm_error *err)
{
	l->index = NULL;
	l->n = 0;
	int rc = kvm_get_msr_index_list(sys, &l->index, &l->n, err);
	if (!rc && l->n > MAX_MSRS)
		l->n = MAX_MSRS;
	return rc;
}

void x86_msr_list_free(struct x86_msr_list *l)
{
	free(l->index);
	l->index = NULL;
	l->n = 0;
}

static struct kvm_msrs *msrs_alloc(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (n ? n : 1) * sizeof(m->entries[0]));
	if (m)
		m->nmsrs = n;
	return m;
}

/* Reads every listed MSR KVM lets us read: KVM_GET_MSRS stops at the first
 * it refuses (some listed MSRs depend on CPUID bits this guest lacks), so
 * that one is skipped and the rest read again. */
static int save_msrs(struct kvm_vcpufd *v, const struct x86_msr_list *l, struct snap_writer *w,
		     struct arcvm_error *err)
{
	struct kvm_msrs *m = msrs_alloc(l->n);
	struct kvm_msr_entry *good = calloc(l->n ? l->n : 1, sizeof(*good));
	if (!m || !good) {
		free(m);
		free(good);
		return err_set(err, ARCVM_E_NOMEM, "out of memory for MSRs");
	}
	uint32_t ngood = 0;
	for (uint32_t from = 0; from < l->n;) {
		m->nmsrs = l->n - from;
		for (uint32_t i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){ .index = l->index[from + i] };
		int n = kvm_vcpu_get_msrs(v, m, err);
		if (n < 0) {
			free(m);
			free(good);
			return n;
		}
		memcpy(good + ngood, m->entries, (size_t)n * sizeof(*good));
		ngood += (uint32_t)n;
		from += (uint32_t)n + 1;   /* skip the one KVM refused */
	}
	snap_put_u32(w, ngood);
	for (uint32_t i = 0; i < ngood; i++) {
		snap_put_u32(w, good[i].index);
		snap_put_u64(w, good[i].data);
	}
	free(m);
	free(good);
	return 0;
}

int x86_vcpu_save(const struct kvm_sys *sys, struct kvm_vcpufd *v, bool lapic,
		  const struct x86_msr_list *msrs, struct snap_writer *w, struct arcvm_error *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_vcpu_events events;
	struct kvm_lapic_state lapic_state;
	uint32_t mp;
	size_t xsize = kvm_xsave_size(sys);
	struct kvm_xsave *xs = calloc(1, xsize);
	if (!xs)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for XSAVE state");
	int rc;
	if ((rc = kvm_vcpu_get_regs(v, &regs, err)) || (rc = kvm_vcpu_get_sregs(v, &sregs, err)) ||
	    (rc = kvm_vcpu_get_xsave(v, xs, xsize, err)) || (rc = kvm_vcpu_get_xcrs(v, &xcrs, err)) ||
	    (rc = kvm_vcpu_get_debugregs(v, &dregs, err)) ||
	    (rc = kvm_vcpu_get_events(v, &events, err)) || (rc = kvm_vcpu_get_mp_state(v, &mp, err)) ||
	    (lapic && (rc = kvm_vcpu_get_lapic(v, &lapic_state, err)))) {
		free(xs);
		return rc;
	}
	snap_begin(w, TAG_VCPU);
	snap_put_u32(w, (uint32_t)v->id);
	snap_put_blob(w, &regs, sizeof(regs));
	snap_put_blob(w, &sregs, sizeof(sregs));
	snap_put_blob(w, xs, (uint32_t)xsize);
	snap_put_blob(w, &xcrs, sizeof(xcrs));
	snap_put_blob(w, &dregs, sizeof(dregs));
	snap_put_blob(w, &events, sizeof(events));
	snap_put_u32(w, mp);
	snap_put_u8(w, lapic);
	if (lapic)
		snap_put_blob(w, &lapic_state, sizeof(lapic_state));
	free(xs);
	rc = save_msrs(v, msrs, w, err);
	snap_end_section(w);
	return rc;
}

/* Writes the saved MSRs. KVM lists some paravirtual MSRs it then refuses to
 * set for a guest whose CPUID lacks the feature (MSR_KVM_ASYNC_PF_INT for
 * one); such an MSR read back as 0, its reset value, and is skipped. Any
 * other refusal fails. */
static int load_msrs(struct kvm_vcpufd *v, const struct kvm_msrs *all, struct arcvm_error *err)
{
	struct kvm_msrs *m = msrs_alloc(all->nmsrs);
	if (!m)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for MSRs");
	int rc = 0;
	for (uint32_t from = 0; !rc && from < all->nmsrs;) {
		m->nmsrs = all->nmsrs - from;
		memcpy(m->entries, all->entries + from, m->nmsrs * sizeof(m->entries[0]));
		int n = kvm_vcpu_put_msrs(v, m, err);
		if (n < 0) {
			rc = n;
		} else if ((uint32_t)n < m->nmsrs && m->entries[n].data != 0) {
			rc = err_set(err, ARCVM_E_HYPERVISOR,
				     "KVM refused MSR 0x%x = 0x%llx of vCPU %d's snapshot",
				     m->entries[n].index, (unsigned long long)m->entries[n].data,
				     v->id);
		}
		from += (uint32_t)(n < 0 ? 0 : n) + 1;
	}
	free(m);
	return rc;
}

/* Everything one VCPU section holds, read and range-checked before any of
 * it reaches KVM. */
struct vcpu_image {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_vcpu_events events;
	uint32_t mp;
	bool has_lapic;
	struct kvm_lapic_state lapic;
	struct kvm_msrs *msrs;
};

static int read_vcpu(const struct kvm_sys *sys, struct kvm_vcpufd *v, struct snap_reader *r,
		     struct vcpu_image *im, struct arcvm_error *err)
{
	char what[32];
	snprintf(what, sizeof(what), "vCPU %d", v->id);
	struct snap_reader s;
	int rc = snap_section(r, TAG_VCPU, what, &s, err);
	if (rc)
		return rc;
	if (snap_get_u32(&s) != (uint32_t)v->id)
		snap_reject(&s);
	snap_get_blob(&s, &im->regs, sizeof(im->regs));
	snap_get_blob(&s, &im->sregs, sizeof(im->sregs));
	size_t xsize = kvm_xsave_size(sys);
	im->xs = calloc(1, xsize);
	if (!im->xs)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for XSAVE state");
	/* The area's size is this host's: a snapshot from a host with another
	 * XSAVE layout is refused rather than half loaded. */
	snap_get_blob(&s, im->xs, (uint32_t)xsize);
	snap_get_blob(&s, &im->xcrs, sizeof(im->xcrs));
	snap_get_blob(&s, &im->dregs, sizeof(im->dregs));
	snap_get_blob(&s, &im->events, sizeof(im->events));
	im->mp = snap_get_u32(&s);
	if (im->mp > KVM_MP_STATE_AP_RESET_HOLD)
		snap_reject(&s);
	im->has_lapic = snap_get_bool(&s);
	if (im->has_lapic)
		snap_get_blob(&s, &im->lapic, sizeof(im->lapic));
	uint32_t n = snap_get_u32(&s);
	if (n > MAX_MSRS) {
		snap_reject(&s);
		n = 0;
	}
	im->msrs = msrs_alloc(n);
	if (!im->msrs)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for MSRs");
	for (uint32_t i = 0; i < n; i++) {
		im->msrs->entries[i].index = snap_get_u32(&s);
		im->msrs->entries[i].data = snap_get_u64(&s);
	}
	if (im->xcrs.nr_xcrs > KVM_MAX_XCRS)
		snap_reject(&s);
	return snap_done(&s, what, err);
}

int x86_vcpu_load(const struct kvm_sys *sys, struct kvm_vcpufd *v, bool lapic,
		  struct snap_reader *r, struct arcvm_error *err)
{
	struct vcpu_image im;
	memset(&im, 0, sizeof(im));
	int rc = read_vcpu(sys, v, r, &im, err);
	if (!rc && im.has_lapic != lapic)
		rc = err_set(err, ARCVM_E_FORMAT, "vCPU %d's state %s a LAPIC, the VM %s", v->id,
			     im.has_lapic ? "has" : "lacks", lapic ? "has one" : "has none");
	/* System registers first (EFER and the APIC base are in them), then
	 * what depends on them. MSRs after the LAPIC: KVM drops a write to
	 * the TSC-deadline MSR unless the LAPIC timer is in TSC-deadline mode,
	 * which the LAPIC state sets; written earlier, the guest's armed timer
	 * was lost and an idle guest slept until some other interrupt. Events
	 * last, so a pending interrupt or exception lands on the final state. */
	if (!rc)
		rc = kvm_vcpu_set_sregs(v, &im.sregs, err);
	if (!rc)
		rc = kvm_vcpu_set_regs(v, &im.regs, err);
	if (!rc)
		rc = kvm_vcpu_set_xsave(v, im.xs, err);
	/* A host without XSAVE reports no XCRs and refuses to set any. */
	if (!rc && im.xcrs.nr_xcrs)
		rc = kvm_vcpu_set_xcrs(v, &im.xcrs, err);
	if (!rc)
		rc = kvm_vcpu_set_debugregs(v, &im.dregs, err);
	if (!rc && lapic)
		rc = kvm_vcpu_set_lapic(v, &im.lapic, err);
	if (!rc)
		rc = load_msrs(v, im.msrs, err);
	if (!rc)
		rc = kvm_vcpu_set_mp_state(v, im.mp, err);
	if (!rc)
		rc = kvm_vcpu_set_events(v, &im.events, err);
	free(im.xs);
	free(im.msrs);
	return rc;
}

int x86_vm_save(struct kvm_vmfd *vm, bool irqchip, struct snap_writer *w,
		struct arcvm_error *err)
{
	struct kvm_clock_data clock;
	struct kvm_irqchip chips[3];
	struct kvm_pit_state2 pit;
	memset(&clock, 0, sizeof(clock));
	memset(chips, 0, sizeof(chips));
	int rc = kvm_get_clock(vm, &clock, err);
	for (int i = 0; !rc && irqchip && i < 3; i++) {
		chips[i].chip_id = (uint32_t)i;
		rc = kvm_get_irqchip(vm, &chips[i], err);
	}
	if (!rc && irqchip)
		rc = kvm_get_pit(vm, &pit, err);
	if (rc)
		return rc;
	snap_begin(w, TAG_VMST);
	snap_put_u64(w, clock.clock);
	snap_put_u8(w, irqchip);
	if (irqchip) {
		for (int i = 0; i < 3; i++)
			snap_put_blob(w, &chips[i], sizeof(chips[i]));
		snap_put_blob(w, &pit, sizeof(pit));
	}
	snap_end_section(w);
	return 0;
}

int x86_vm_load(struct kvm_vmfd *vm, bool irqchip, struct snap_reader *r,
		struct arcvm_error *err)
{
	struct snap_reader s;
	int rc = snap_section(r, TAG_VMST, "VM", &s, err);
	if (rc)
		return rc;
	struct kvm_clock_data clock;
	struct kvm_irqchip chips[3];
	struct kvm_pit_state2 pit;
	memset(&clock, 0, sizeof(clock));
	clock.clock = snap_get_u64(&s);
	bool had = snap_get_bool(&s);
	if (had) {
		for (int i = 0; i < 3; i++) {
			snap_get_blob(&s, &chips[i], sizeof(chips[i]));
			if (chips[i].chip_id != (uint32_t)i)
				snap_reject(&s);
		}
		snap_get_blob(&s, &pit, sizeof(pit));
	}
	if ((rc = snap_done(&s, "VM", err)))
		return rc;
	if (had != irqchip)
		return err_set(err, ARCVM_E_FORMAT, "the snapshot %s an in-kernel irqchip, the VM %s",
			       had ? "has" : "lacks", irqchip ? "has one" : "has none");
	for (int i = 0; irqchip && i < 3; i++)
		if ((rc = kvm_set_irqchip(vm, &chips[i], err)))
			return rc;
	if (irqchip && (rc = kvm_set_pit(vm, &pit, err)))
		return rc;
	/* The guest's clock carries on from the snapshot's instant: time
	 * spent on disk does not pass for it (as with Firecracker). */
	return kvm_set_clock(vm, &clock, err);
}

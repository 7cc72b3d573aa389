/*
 * call_shm.c - shm.shared(), shm.ring() and shm.wait(secs) for the IonVM
 * function a CALL runs (docs/shared-memory.md, "IonVM: shared()").
 *
 * shared() maps the VM's shared-memory region from /dev/mem the first time
 * it is called and hands out IonVM buffers over that mapping: reads and
 * writes go straight to the shared pages, nothing is copied. The mapping
 * is kept until this process (one CALL connection) exits, which is after
 * its IonVM is freed, as ion_new_buffer_external requires. ring() and
 * wait() are the doorbell of arcvm-shm (shm.c); wait blocks the whole
 * IonVM, all of its processes, for at most secs seconds.
 */
#include "agent.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ion/include/ion.h"

#define WAIT_MAX_SECS (86400 * 365)

static uint8_t *region;
static uint64_t region_size;

static int n_shared(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	if (!region) {
		uint64_t size, gpa;
		if (shm_find(&size, &gpa))
			return ion_proc_raise(p, "noshm", "no shared memory: start the VM with "
					      "--shared-mem");
		uint8_t *m = shm_map(gpa, size);
		if (!m)
			return ion_proc_raise(p, "noshm", "cannot map the shared memory from "
					      "/dev/mem: %s", strerror(errno));
		region = m;
		region_size = size;
	}
	*out = ion_new_buffer_external(p, region, region_size);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int n_ring(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	char err[256];
	if (shm_bell('R', -1, err, sizeof err))
		return ion_proc_raise(p, "noshm", "%s", err);
	*out = ion_make_bool(1);
	return ION_NATIVE_OK;
}

static int n_wait(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	double secs;
	if (ion_arg_num(p, a, 0, &secs))
		return ION_NATIVE_ERROR;
	if (secs != floor(secs) || secs < 0 || secs > WAIT_MAX_SECS)
		return ion_proc_raise(p, "badarg", "shm.wait needs whole seconds in 0..%d",
				      WAIT_MAX_SECS);
	char err[256];
	int rc = shm_bell('W', (int)secs, err, sizeof err);
	if (rc == 1)
		return ion_proc_raise(p, "noshm", "%s", err);
	*out = ion_make_bool(rc == 0);
	return ION_NATIVE_OK;
}

static const struct ion_native natives[] = {
	{ "shm.shared", 0, "the VM's shared memory as a buffer, in place", n_shared },
	{ "shm.ring", 0, "ring the shared memory's doorbell", n_ring },
	{ "shm.wait", 1, "wait at most secs for the doorbell: true when rung", n_wait },
	{ NULL, 0, NULL, NULL }
};

int call_shm_register(struct ion_vm *vm)
{
	return ion_vm_register_natives(vm, natives);
}

/* test_virtio_mmio_kvm.c - the transport's KVM wiring: one ioeventfd per
 * queue on QueueNotify (datamatch = queue index) and an irqfd on the GSI,
 * both gone after detach. KVM refuses a second identical ioeventfd (EEXIST)
 * and a second irqfd on the same eventfd (EBUSY), which makes the
 * registrations observable. Skips, saying why, without /dev/kvm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <unistd.h>

#include "hv/kvm.h"
#include "virtio/console.h"
#include "virtio_fake_driver.h"

struct kfx {
	struct kvm_sys sys;
	struct kvm_vmfd vm;
	struct guest_mem mem;
	uint8_t *ram;
	struct bus bus;
	struct virtio_mmio *t;
};

static int setup(void **state)
{
	struct kfx *k = calloc(1, sizeof(*k));
	struct arcvm_error err;
	if (kvm_open(&k->sys, &err) < 0) {
		printf("SKIP: no usable /dev/kvm: %s\n", err.msg);
		free(k);
		*state = NULL;
		return 0;
	}
	assert_int_equal(kvm_vm_create(&k->sys, &k->vm, &err), 0);
	assert_int_equal(kvm_create_irqchip(&k->vm, &err), 0);
	k->ram = calloc(1, 1 << 20);
	assert_int_equal(mem_add_region(&k->mem, 0, k->ram, 1 << 20, true, NULL), 0);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct kfx *k = *state;
	if (!k)
		return 0;
	kvm_vm_close(&k->vm);
	kvm_close(&k->sys);
	free(k->ram);
	free(k);
	return 0;
}

static bool notify_taken(struct kfx *k, unsigned q)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int rc = kvm_ioeventfd(&k->vm, efd, FD_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, false, true, q,
			       true, NULL);
	if (rc == 0)
		kvm_ioeventfd(&k->vm, efd, FD_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, false, true, q,
			      false, NULL);
	close(efd);
	return rc < 0;
}

static void test_wiring(void **state)
{
	struct kfx *k = *state;
	if (!k) {
		skip();
		return;
	}
	struct virtio_dev *dev;
	assert_int_equal(vcon_create(-1, -1, &dev, NULL), 0);
	struct virtio_mmio_env env = { .mem = &k->mem, .mmio_bus = &k->bus, .vm = &k->vm };
	struct arcvm_error err;
	int rc = virtio_mmio_attach(&env, dev, FD_BASE, FD_GSI, &k->t, &err);
	if (rc < 0)
		fail_msg("attach: %s", err.msg);
	assert_true(notify_taken(k, 0));
	assert_true(notify_taken(k, 1));
	assert_false(notify_taken(k, 2));   /* the console has two queues */
	assert_int_equal(kvm_irqfd(&k->vm, virtio_mmio_irq_fd(k->t), FD_GSI, true, NULL),
			 ARCVM_E_HYPERVISOR);

	virtio_mmio_detach(k->t);
	assert_false(notify_taken(k, 0));
	assert_false(notify_taken(k, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wiring, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

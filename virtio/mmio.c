/*
 * mmio.c - virtio-mmio version 2 transport. See mmio.h for threads and locks.
 *
 * State ownership: everything in struct virtio_mmio below `isr` is under the
 * device lock (dev->lock). `isr` is atomic. The fds and the constant fields
 * are set at attach and read-only afterwards.
 */
#include "virtio/mmio.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/err.h"
#include "util/snapbuf.h"

#define MMIO_MAGIC   0x74726976u   /* "virt" */
#define MMIO_VERSION 2u

struct mmio_queue {
	struct virtio_mmio *t;
	unsigned idx;
	int kick_fd;
	bool ioeventfd;         /* KVM signals kick_fd on QueueNotify == idx */
	bool watched;           /* kick_fd is on the I/O loop */
	/* Staged by the driver while the queue is not ready. */
	uint32_t num;
	uint64_t desc, avail, used;
};

struct virtio_mmio {
	struct virtio_dev *dev;
	uint64_t base;
	uint32_t gsi;
	struct kvm_vmfd *vm;
	struct io_loop *io;
	int irq_fd;
	bool irqfd;
	char name[32];

	uint32_t isr;           /* InterruptStatus; atomic */

	uint32_t status;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t driver_features;
	struct mmio_queue q[VIRTIO_DEV_MAX_QUEUES];
	struct virtq vqs[VIRTIO_DEV_MAX_QUEUES];
};

static uint64_t offered(const struct virtio_mmio *t)
{
	return t->dev->features | (1ull << VIRTIO_F_VERSION_1);
}

static void signal_fd(int fd)
{
	eventfd_write(fd, 1);   /* fails only on counter overflow: already signalled */
}

/* Device-lock held (every caller is a device op or a register write). */
static void mmio_interrupt(void *opaque, uint32_t reason)
{
	struct virtio_mmio *t = opaque;
	if (reason & VIRTIO_INT_NEEDS_RESET) {
		if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
			return;
		t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		reason = VIRTIO_INT_CONFIG;
	}
	__atomic_fetch_or(&t->isr, reason & (VIRTIO_INT_USED | VIRTIO_INT_CONFIG),
			  __ATOMIC_SEQ_CST);
	signal_fd(t->irq_fd);
}

static void mmio_requeue(void *opaque, unsigned qi)
{
	struct virtio_mmio *t = opaque;
	signal_fd(t->q[qi].kick_fd);
}

/* Runs queue qi's device work. I/O thread (or virtio_mmio_poll's caller). */
static void run_queue(struct virtio_mmio *t, unsigned qi)
{
	struct virtio_dev *d = t->dev;
	pthread_mutex_lock(&d->lock);
	struct virtq *q = &t->vqs[qi];
	if (d->running && q->ready && !q->broken) {
		d->ops->queue_notify(d, qi);
		if (q->broken)
			mmio_interrupt(t, VIRTIO_INT_NEEDS_RESET);
	}
	pthread_mutex_unlock(&d->lock);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct mmio_queue *mq = opaque;
	eventfd_t v;
	if (eventfd_read(mq->kick_fd, &v) == 0)
		run_queue(mq->t, mq->idx);
}

int virtio_mmio_poll(struct virtio_mmio *t)
{
	int ran = 0;
	for (unsigned i = 0; i < t->dev->nqueues; i++) {
		eventfd_t v;
		if (eventfd_read(t->q[i].kick_fd, &v) == 0) {
			run_queue(t, i);
			ran++;
		}
	}
	return ran;
}

/* Status 0: back to the state right after attach. Device lock held, so no
 * queue work is in progress and none starts until DRIVER_OK again. */
static void device_reset(struct virtio_mmio *t)
{
	struct virtio_dev *d = t->dev;
	d->running = false;
	d->acked = 0;
	for (unsigned i = 0; i < d->nqueues; i++) {
		virtq_reset(&t->vqs[i]);
		t->q[i].num = 0;
		t->q[i].desc = t->q[i].avail = t->q[i].used = 0;
	}
	t->status = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	__atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
	if (d->ops->reset)
		d->ops->reset(d);
}

static bool features_acceptable(const struct virtio_mmio *t)
{
	uint64_t f = t->driver_features;
	return !(f & ~offered(t)) && (f & (1ull << VIRTIO_F_VERSION_1));
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	struct virtio_dev *d = t->dev;
	if (v == 0) {
		device_reset(t);
		return;
	}
	uint32_t old = t->status & ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET;
	if (old & ~v)
		return;   /* a driver only adds bits; clearing one needs a reset */
	uint32_t add = v & ~old & ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET;
	if (add & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (features_acceptable(t))
			d->acked = t->driver_features;
		else
			add &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && !((old | add) & VIRTIO_CONFIG_S_FEATURES_OK))
		add &= ~(uint32_t)VIRTIO_CONFIG_S_DRIVER_OK;
	t->status |= add;
	if (add & VIRTIO_CONFIG_S_FAILED)
		d->running = false;
	if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && !(t->status & VIRTIO_CONFIG_S_FAILED)) {
		d->running = true;
		if (d->ops->start)
			d->ops->start(d);
		/* Buffers offered before DRIVER_OK were not processed: look now. */
		for (unsigned i = 0; i < d->nqueues; i++)
			if (t->vqs[i].ready)
				signal_fd(t->q[i].kick_fd);
	}
}

static struct mmio_queue *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->dev->nqueues ? &t->q[t->queue_sel] : NULL;
}

static void write_queue_ready(struct virtio_mmio *t, uint32_t v)
{
	struct mmio_queue *mq = selected(t);
	if (!mq)
		return;
	struct virtq *q = &t->vqs[mq->idx];
	if (v == 0) {
		virtq_reset(q);
		return;
	}
	if (v != 1 || q->ready || !(t->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	/* A refused configuration leaves the queue not ready; the driver
	 * reads QueueReady back and gives up. */
	virtq_enable(q, t->dev->mem, mq->num, t->dev->queue_max[mq->idx], mq->desc, mq->avail,
		     mq->used, t->dev->acked, NULL);
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
	if (high)
		*reg = (*reg & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*reg = (*reg & ~0xffffffffull) | v;
}

/* Queue setup registers; ignored for a bad index or a ready queue. */
static void write_queue_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct mmio_queue *mq = selected(t);
	if (!mq || t->vqs[mq->idx].ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: mq->num = v; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(&mq->desc, false, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(&mq->desc, true, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: set_half(&mq->avail, false, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: set_half(&mq->avail, true, v); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: set_half(&mq->used, false, v); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: set_half(&mq->used, true, v); break;
	}
}

static void write_driver_features(struct virtio_mmio *t, uint32_t v)
{
	if (t->status & VIRTIO_CONFIG_S_FEATURES_OK || t->drv_feat_sel > 1)
		return;
	set_half(&t->driver_features, t->drv_feat_sel == 1, v);
}

/* A register write other than notify and ack. Device lock held. */
static void write_locked(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES: write_driver_features(t, v); break;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_READY: write_queue_ready(t, v); break;
	case VIRTIO_MMIO_STATUS: write_status(t, v); break;
	default: write_queue_reg(t, off, v); break;
	}
}

static void config_write(struct virtio_mmio *t, uint64_t off, const void *data, unsigned len)
{
	struct virtio_dev *d = t->dev;
	off -= VIRTIO_MMIO_CONFIG;
	if (!d->ops->config_write || off > d->config_len || len > d->config_len - off)
		return;
	pthread_mutex_lock(&d->lock);
	d->ops->config_write(d, (uint32_t)off, data, len);
	pthread_mutex_unlock(&d->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_write(t, off, data, len);
		return;
	}
	if (len != 4 || (off & 3))
		return;   /* registers take aligned 32-bit accesses only */
	uint32_t v;
	memcpy(&v, data, 4);
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Reaches here only when no ioeventfd caught it. */
		if (v < t->dev->nqueues)
			signal_fd(t->q[v].kick_fd);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&t->isr, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&t->dev->lock);
	write_locked(t, off, v);
	pthread_mutex_unlock(&t->dev->lock);
}

static uint32_t read_queue_reg(struct virtio_mmio *t, uint64_t off)
{
	struct mmio_queue *mq = selected(t);
	if (!mq)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return t->dev->queue_max[mq->idx];
	case VIRTIO_MMIO_QUEUE_READY: return t->vqs[mq->idx].ready;
	case VIRTIO_MMIO_QUEUE_NUM: return mq->num;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: return (uint32_t)mq->desc;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: return (uint32_t)(mq->desc >> 32);
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: return (uint32_t)mq->avail;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: return (uint32_t)(mq->avail >> 32);
	case VIRTIO_MMIO_QUEUE_USED_LOW: return (uint32_t)mq->used;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: return (uint32_t)(mq->used >> 32);
	}
	return 0;
}

/* Device lock held. */
static uint32_t read_locked(struct virtio_mmio *t, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->dev_feat_sel > 1)
			return 0;
		return (uint32_t)(offered(t) >> (32 * t->dev_feat_sel));
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW: case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;   /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->dev->config_generation;
	}
	return read_queue_reg(t, off);
}

static void config_read(struct virtio_mmio *t, uint64_t off, uint8_t *data, unsigned len)
{
	const struct virtio_dev *d = t->dev;
	off -= VIRTIO_MMIO_CONFIG;
	for (unsigned i = 0; i < len; i++)
		data[i] = d->config && off + i < d->config_len ?
				  ((const uint8_t *)d->config)[off + i] : 0;
}

static void mmio_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;
	memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_read(t, off, data, len);
		return;
	}
	if (len != 4 || (off & 3))
		return;
	uint32_t v;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: v = MMIO_MAGIC; break;
	case VIRTIO_MMIO_VERSION: v = MMIO_VERSION; break;
	case VIRTIO_MMIO_DEVICE_ID: v = t->dev->device_id; break;
	case VIRTIO_MMIO_VENDOR_ID: v = VIRTIO_MMIO_VENDOR; break;
	case VIRTIO_MMIO_INTERRUPT_STATUS: v = __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST); break;
	default:
		pthread_mutex_lock(&t->dev->lock);
		v = read_locked(t, off);
		pthread_mutex_unlock(&t->dev->lock);
	}
	memcpy(data, &v, 4);
}

static const struct bus_ops mmio_bus_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

static int check_device(const struct virtio_dev *d, struct arcvm_error *err)
{
	const char *name = d->ops && d->ops->name ? d->ops->name : "virtio device";
	if (!d->ops || !d->ops->queue_notify || !d->ops->destroy)
		return err_set(err, ARCVM_E_INVALID, "%s: queue_notify and destroy ops are required",
			       name);
	if (d->nqueues == 0 || d->nqueues > VIRTIO_DEV_MAX_QUEUES)
		return err_set(err, ARCVM_E_INVALID, "%s: %u queues (1..%d)", name, d->nqueues,
			       VIRTIO_DEV_MAX_QUEUES);
	for (unsigned i = 0; i < d->nqueues; i++) {
		unsigned m = d->queue_max[i];
		if (m == 0 || m > VIRTQ_MAX_SIZE || (m & (m - 1)))
			return err_set(err, ARCVM_E_INVALID, "%s: queue %u maximum size %u", name,
				       i, m);
	}
	if (d->config_len > VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG)
		return err_set(err, ARCVM_E_INVALID, "%s: config space of %u bytes too large", name,
			       d->config_len);
	return 0;
}

/* Undoes the wiring of attach; safe on a partly wired transport. */
static void unwire(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++) {
		struct mmio_queue *mq = &t->q[i];
		if (mq->watched)
			io_loop_del(t->io, mq->kick_fd);
		if (mq->ioeventfd)
			kvm_ioeventfd(t->vm, mq->kick_fd, t->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
				      false, true, i, false, NULL);
		if (mq->kick_fd >= 0)
			close(mq->kick_fd);
		mq->kick_fd = -1;
		mq->watched = mq->ioeventfd = false;
	}
	if (t->irqfd)
		kvm_irqfd(t->vm, t->irq_fd, t->gsi, false, NULL);
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	t->irq_fd = -1;
	t->irqfd = false;
}

static int wire_queue(struct virtio_mmio *t, unsigned i, struct arcvm_error *err)
{
	struct mmio_queue *mq = &t->q[i];
	mq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mq->kick_fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "%s: eventfd for queue %u", t->name, i);
	/* Without the ioeventfd the notify arrives as an MMIO write, which
	 * signals the same eventfd: slower, still correct. */
	if (t->vm)
		mq->ioeventfd = kvm_ioeventfd(t->vm, mq->kick_fd,
					      t->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, false, true,
					      i, true, NULL) == 0;
	if (t->io) {
		if (io_loop_add(t->io, mq->kick_fd, EPOLLIN, on_kick, mq, err) < 0)
			return err ? err->code : ARCVM_E_IO;
		mq->watched = true;
	}
	return 0;
}

static int wire(struct virtio_mmio *t, struct arcvm_error *err)
{
	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->irq_fd < 0)
		return err_errno(err, ARCVM_E_IO, errno, "%s: eventfd for the interrupt", t->name);
	if (t->vm) {
		int rc = kvm_irqfd(t->vm, t->irq_fd, t->gsi, true, err);
		if (rc < 0)
			return rc;
		t->irqfd = true;
	}
	for (unsigned i = 0; i < t->dev->nqueues; i++) {
		int rc = wire_queue(t, i, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int virtio_mmio_attach(const struct virtio_mmio_env *env, struct virtio_dev *dev, uint64_t base,
		       uint32_t gsi, struct virtio_mmio **out, struct arcvm_error *err)
{
	int rc = check_device(dev, err);
	if (rc < 0)
		return rc;
	if (!env->mem || !env->mmio_bus || (base & (VIRTIO_MMIO_WINDOW - 1)))
		return err_set(err, ARCVM_E_INVALID, "%s: needs memory, a bus and a 4 KiB aligned base",
			       dev->ops->name);
	struct virtio_mmio *t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(err, ARCVM_E_NOMEM, "%s: out of memory", dev->ops->name);
	t->dev = dev;
	t->base = base;
	t->gsi = gsi;
	t->vm = env->vm;
	t->io = env->io;
	t->irq_fd = -1;
	snprintf(t->name, sizeof(t->name), "%s@0x%llx", dev->ops->name, (unsigned long long)base);
	for (unsigned i = 0; i < VIRTIO_DEV_MAX_QUEUES; i++)
		t->q[i] = (struct mmio_queue){ .t = t, .idx = i, .kick_fd = -1 };

	pthread_mutex_init(&dev->lock, NULL);
	dev->mem = env->mem;
	dev->io = env->io;
	dev->vqs = t->vqs;
	dev->interrupt = mmio_interrupt;
	dev->requeue = mmio_requeue;
	dev->transport = t;
	dev->running = false;
	dev->acked = 0;

	rc = wire(t, err);
	if (rc == 0 && dev->ops->attach)
		rc = dev->ops->attach(dev, err);
	/* Last: the bus cannot take a registration back. */
	if (rc == 0)
		rc = bus_register(env->mmio_bus, base, VIRTIO_MMIO_WINDOW, &mmio_bus_ops, t, t->name,
				  err);
	if (rc < 0) {
		unwire(t);
		pthread_mutex_destroy(&dev->lock);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void virtio_mmio_detach(struct virtio_mmio *t)
{
	if (!t)
		return;
	unwire(t);
	pthread_mutex_destroy(&t->dev->lock);
	t->dev->ops->destroy(t->dev);
	free(t);
}

int virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t len)
{
	int n = snprintf(buf, len, " virtio_mmio.device=4K@0x%llx:%u",
			 (unsigned long long)t->base, t->gsi);
	if (n < 0 || (size_t)n >= len)
		return ARCVM_E_INVALID;
	return n;
}

int virtio_mmio_irq_fd(const struct virtio_mmio *t)
{
	return t->irq_fd;
}

uint32_t virtio_mmio_status(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->dev->lock);
	uint32_t s = t->status;
	pthread_mutex_unlock(&t->dev->lock);
	return s;
}

struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *t)
{
	return t->dev;
}

#define TAG_VMIO SNAP_TAG('V', 'M', 'I', 'O')

static void save_queue(struct virtio_mmio *t, unsigned i, struct snap_writer *w)
{
	const struct mmio_queue *mq = &t->q[i];
	const struct virtq *q = &t->vqs[i];
	snap_put_u32(w, mq->num);
	snap_put_u64(w, mq->desc);
	snap_put_u64(w, mq->avail);
	snap_put_u64(w, mq->used);
	snap_put_u8(w, q->ready);
	snap_put_u8(w, q->broken);
	snap_put_u16(w, q->last_avail);
	snap_put_u16(w, q->used_idx);
	snap_put_u16(w, q->signalled_used);
	snap_put_u8(w, q->signalled_valid);
}

void virtio_mmio_save(struct virtio_mmio *t, struct snap_writer *w)
{
	struct virtio_dev *d = t->dev;
	pthread_mutex_lock(&d->lock);
	snap_begin(w, TAG_VMIO);
	snap_put_u32(w, d->device_id);
	snap_put_u32(w, d->nqueues);
	snap_put_u32(w, t->status);
	snap_put_u32(w, t->dev_feat_sel);
	snap_put_u32(w, t->drv_feat_sel);
	snap_put_u32(w, t->queue_sel);
	snap_put_u64(w, t->driver_features);
	snap_put_u64(w, d->acked);
	snap_put_u8(w, d->running);
	snap_put_u32(w, __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST));
	for (unsigned i = 0; i < d->nqueues; i++)
		save_queue(t, i, w);
	snap_end_section(w);
	if (d->ops->save)
		d->ops->save(d, w);
	pthread_mutex_unlock(&d->lock);
}

/* A queue's saved configuration is enabled as if the driver had written it,
 * so a snapshot cannot point a queue anywhere a driver could not. */
static int load_queue(struct virtio_mmio *t, unsigned i, struct snap_reader *s,
		      struct arcvm_error *err)
{
	struct mmio_queue *mq = &t->q[i];
	struct virtq *q = &t->vqs[i];
	mq->num = snap_get_u32(s);
	mq->desc = snap_get_u64(s);
	mq->avail = snap_get_u64(s);
	mq->used = snap_get_u64(s);
	bool ready = snap_get_bool(s);
	bool broken = snap_get_bool(s);
	uint16_t last_avail = snap_get_u16(s), used_idx = snap_get_u16(s);
	uint16_t signalled = snap_get_u16(s);
	bool signalled_valid = snap_get_bool(s);
	if (s->bad || !ready)
		return 0;
	struct arcvm_error qerr;
	if (virtq_enable(q, t->dev->mem, mq->num, t->dev->queue_max[i], mq->desc, mq->avail,
			 mq->used, t->dev->acked, &qerr))
		return err_set(err, ARCVM_E_FORMAT, "snapshot state of %s queue %u is invalid: %s",
			       t->name, i, qerr.msg);
	q->broken = broken;
	if (broken)
		snprintf(q->why, sizeof(q->why), "broken before the snapshot");
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled_used = signalled;
	q->signalled_valid = signalled_valid;
	return 0;
}

/* Registers that only a driver following the protocol could have produced. */
static bool transport_state_valid(const struct virtio_mmio *t)
{
	uint32_t known = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK |
			 VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED;
	if (t->status & ~known)
		return false;
	if (t->dev->acked && (!(t->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
			      t->dev->acked != t->driver_features || !features_acceptable(t)))
		return false;
	if ((t->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(t->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	return true;
}

int virtio_mmio_load(struct virtio_mmio *t, struct snap_reader *r, struct arcvm_error *err)
{
	struct virtio_dev *d = t->dev;
	struct snap_reader s;
	int rc = snap_section(r, TAG_VMIO, t->name, &s, err);
	if (rc)
		return rc;
	uint32_t id = snap_get_u32(&s), nq = snap_get_u32(&s);
	if (!s.bad && (id != d->device_id || nq != d->nqueues))
		return err_set(err, ARCVM_E_FORMAT,
			       "snapshot state has virtio device %u with %u queues where %s (device "
			       "%u, %u queues) belongs", id, nq, t->name, d->device_id, d->nqueues);
	pthread_mutex_lock(&d->lock);
	t->status = snap_get_u32(&s);
	t->dev_feat_sel = snap_get_u32(&s);
	t->drv_feat_sel = snap_get_u32(&s);
	t->queue_sel = snap_get_u32(&s);
	t->driver_features = snap_get_u64(&s);
	d->acked = snap_get_u64(&s);
	d->running = snap_get_bool(&s);
	uint32_t isr = snap_get_u32(&s) & (VIRTIO_INT_USED | VIRTIO_INT_CONFIG);
	__atomic_store_n(&t->isr, isr, __ATOMIC_SEQ_CST);
	if (!s.bad && !transport_state_valid(t))
		snap_reject(&s);
	for (unsigned i = 0; !rc && i < d->nqueues; i++)
		rc = load_queue(t, i, &s, err);
	if (!rc)
		rc = snap_done(&s, t->name, err);
	if (!rc && d->ops->load)
		rc = d->ops->load(d, r, err);
	for (unsigned i = 0; !rc && i < d->nqueues; i++)
		if (t->vqs[i].ready)
			signal_fd(t->q[i].kick_fd);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

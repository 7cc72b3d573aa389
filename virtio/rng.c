/*
 * rng.c - virtio-rng device (virtio 1.x, section 5.4): one request queue of
 * device-writable buffers, each filled with up to VRNG_MAX_REQUEST bytes of
 * getrandom() output. The bound keeps a guest posting huge buffers from
 * draining the host pool or holding the I/O thread.
 *
 * Thread ownership: no state besides the scratch chain, used by the I/O
 * thread under the device lock.
 */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "util/err.h"

struct vrng {
	struct virtio_dev dev;          /* first: the transport sees this */
	struct virtq_chain chain;       /* I/O thread scratch */
	struct iovec parts[VIRTQ_CHAIN_MAX];
};

/* Fills the first `want` writable bytes of the chain; returns bytes filled. */
static uint32_t fill(struct vrng *r, uint64_t want)
{
	int n = virtq_chain_slice(&r->chain, true, 0, want, r->parts, VIRTQ_CHAIN_MAX);
	uint32_t done = 0;
	for (int i = 0; i < n; i++) {
		size_t got = 0;
		while (got < r->parts[i].iov_len) {
			ssize_t k = getrandom((uint8_t *)r->parts[i].iov_base + got,
					      r->parts[i].iov_len - got, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return done + (uint32_t)got;
			got += (size_t)k;
		}
		done += (uint32_t)got;
	}
	return done;
}

static void vrng_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vrng *r = (struct vrng *)d;
	struct virtq *q = &d->vqs[qi];
	bool pushed = false;
	unsigned budget = VIRTIO_DEV_BUDGET;

	while (virtio_dev_pop(d, qi, &r->chain, &budget) == 1) {
		uint64_t want = r->chain.write_len;
		if (want > VRNG_MAX_REQUEST)
			want = VRNG_MAX_REQUEST;
		virtq_push(q, r->chain.head, fill(r, want));
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(d, q);
}

static void vrng_destroy(struct virtio_dev *d)
{
	free(d);
}

static const struct virtio_dev_ops vrng_ops = {
	.name = "virtio-rng",
	.queue_notify = vrng_queue_notify,
	.destroy = vrng_destroy,
};

int vrng_create(struct virtio_dev **out, struct arcvm_error *err)
{
	struct vrng *r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(err, ARCVM_E_NOMEM, "virtio-rng: out of memory");
	r->dev.ops = &vrng_ops;
	r->dev.device_id = VIRTIO_ID_RNG;
	r->dev.features = (1ull << VIRTQ_F_INDIRECT_DESC) | (1ull << VIRTQ_F_EVENT_IDX);
	r->dev.nqueues = 1;
	r->dev.queue_max[0] = VRNG_QUEUE_SIZE;
	*out = &r->dev;
	return 0;
}

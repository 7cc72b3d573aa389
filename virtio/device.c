/* device.c - helpers every virtio device uses to talk back to its transport. */
#include "virtio/device.h"

void virtio_dev_used(struct virtio_dev *d, struct virtq *q)
{
	if (virtq_needs_interrupt(q) && d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_USED);
}

int virtio_dev_pop(struct virtio_dev *d, unsigned qi, struct virtq_chain *c, unsigned *budget)
{
	if (*budget == 0) {
		if (d->requeue)
			d->requeue(d->transport, qi);
		return 0;
	}
	int r = virtq_pop(&d->vqs[qi], c);
	if (r == 1)
		(*budget)--;
	return r;
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	if (d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_CONFIG);
}

void virtio_dev_broken(struct virtio_dev *d)
{
	if (d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_NEEDS_RESET);
}

bool virtio_dev_has(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && (d->acked & (1ull << bit));
}

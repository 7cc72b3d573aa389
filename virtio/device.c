/* device.c - helpers every virtio device uses to talk back to its transport. */
#include "virtio/device.h"

void virtio_dev_used(struct virtio_dev *d, struct virtq *q)
{
	if (virtq_needs_interrupt(q) && d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_USED);
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

/*
 * p9.c - virtio-9p device (virtio 1.x, section 5.11 draft / Linux's
 * 9pnet_virtio): a config space holding the mount tag, one request queue.
 *
 * Each chain is one 9P request: the readable part is the T-message, the
 * writable part receives the R-message. Requests are answered in queue order
 * on the I/O thread by the 9P server (p9/server.h), which reads and writes
 * the chain's buffers in place. A chain whose writable part cannot hold even
 * an error reply is returned with length 0.
 *
 * Thread ownership: struct vp9 is constant after vp9_create except the
 * scratch chain and the server's session state, which only the I/O thread
 * touches under the device lock (the reset op runs under the same lock).
 */
#include "virtio/p9.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "p9/server.h"
#include "util/err.h"

#define VIRTIO_9P_MOUNT_TAG 0    /* feature: the config space holds a tag */

struct vp9 {
	struct virtio_dev dev;          /* first: the transport sees this */
	struct p9_server *server;
	uint8_t config[2 + VP9_TAG_MAX];   /* tag_len[2, LE] tag[tag_len] */
	struct virtq_chain chain;       /* I/O thread scratch */
};

static void vp9_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vp9 *v = (struct vp9 *)d;
	struct virtq *q = &d->vqs[qi];
	struct virtq_chain *c = &v->chain;
	bool pushed = false;
	unsigned budget = VIRTIO_DEV_BUDGET;

	while (virtio_dev_pop(d, qi, c, &budget) == 1) {
		uint32_t len = p9_server_handle(v->server, c->iov, c->nread, c->iov + c->nread,
						c->nwrite);
		virtq_push(q, c->head, len);
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(d, q);
}

/* The driver reset the device: its fids are gone with it. */
static void vp9_reset(struct virtio_dev *d)
{
	p9_server_reset(((struct vp9 *)d)->server);
}

static void vp9_save(struct virtio_dev *d, struct snap_writer *w)
{
	p9_server_save(((struct vp9 *)d)->server, w);
}

static int vp9_load(struct virtio_dev *d, struct snap_reader *r, struct arcvm_error *err)
{
	return p9_server_load(((struct vp9 *)d)->server, r, err);
}

static void vp9_destroy(struct virtio_dev *d)
{
	struct vp9 *v = (struct vp9 *)d;
	p9_server_destroy(v->server);
	free(v);
}

static const struct virtio_dev_ops vp9_ops = {
	.name = "virtio-9p",
	.queue_notify = vp9_queue_notify,
	.reset = vp9_reset,
	.save = vp9_save,
	.load = vp9_load,
	.destroy = vp9_destroy,
};

int vp9_create(const char *host_dir, const char *mount_tag, bool read_only,
	       struct virtio_dev **out, struct arcvm_error *err)
{
	size_t tlen = mount_tag ? strlen(mount_tag) : 0;
	if (tlen == 0 || tlen > VP9_TAG_MAX)
		return err_set(err, ARCVM_E_INVALID, "share %s: mount tag must be 1..%d bytes",
			       host_dir ? host_dir : "", VP9_TAG_MAX);
	struct vp9 *v = calloc(1, sizeof(*v));
	if (!v)
		return err_set(err, ARCVM_E_NOMEM, "share %s: out of memory", host_dir);
	int rc = p9_server_create(host_dir, read_only, 0, &v->server, err);
	if (rc < 0) {
		free(v);
		return rc;
	}
	uint16_t le = htole16((uint16_t)tlen);
	memcpy(v->config, &le, 2);
	memcpy(v->config + 2, mount_tag, tlen);

	struct virtio_dev *d = &v->dev;
	d->ops = &vp9_ops;
	d->device_id = VIRTIO_ID_9P;
	d->features = (1ull << VIRTIO_9P_MOUNT_TAG) | (1ull << VIRTQ_F_INDIRECT_DESC) |
		      (1ull << VIRTQ_F_EVENT_IDX);
	d->nqueues = 1;
	d->queue_max[0] = VP9_QUEUE_SIZE;
	d->config = v->config;
	d->config_len = (uint32_t)(2 + tlen);
	*out = d;
	return 0;
}

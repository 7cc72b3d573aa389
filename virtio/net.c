/*
 * net.c - virtio-net device (virtio 1.x, section 5.1): the queues, the
 * header, frame validation and the control queue. Where frames go is the
 * backend's business (net_slirp.c, net_tap.c).
 *
 * Transmit: each chain is one frame behind a 12-byte header. The header is
 * copied out of guest memory once and judged by vnet_tx_check; the backend
 * is handed that copy plus the frame's bytes in place, so a guest changing
 * the header after the check changes nothing. Frames that fail are dropped
 * and counted, and the chain goes back to the guest.
 *
 * Receive: a frame is copied into as many posted chains as it needs (one
 * unless VIRTIO_NET_F_MRG_RXBUF was negotiated). When the guest has not
 * posted enough, the chains taken are given back untouched in meaning
 * (virtq_unpop) and the backend holds the frame and stops reading the host
 * side until the guest kicks the receive queue: a guest that posts nothing
 * costs no CPU. Exactly the bytes of the frame are written and reported.
 *
 * Thread ownership: see net.h; all state below is used under the device lock
 * on the I/O thread, except `stats`, also read at destroy.
 */
#include "virtio/net.h"

#include <endian.h>
#include <linux/virtio_net.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* The config space fields we offer (virtio 1.x, 5.1.4), little-endian. */
struct vnet_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct vnet {
	struct virtio_dev dev;          /* first: the transport sees this */
	struct vnet_backend *be;
	unsigned pairs;                 /* queue pairs offered */
	unsigned ctrlq;                 /* control queue index, or 0 with one pair */
	struct vnet_config config;
	bool mrg;                       /* negotiated: VIRTIO_NET_F_MRG_RXBUF */
	bool gso_tx;                    /* negotiated: CSUM and host TSO (TAP only) */
	bool rx_pushed[VNET_MAX_PAIRS]; /* used entries not yet signalled */
	struct vnet_stats stats;
	vnet_log_fn log;
	void *log_opaque;

	/* I/O thread scratch. */
	struct virtq_chain chain;
	struct iovec tx_iov[VIRTQ_CHAIN_MAX + 1];
	uint16_t rx_heads[VIRTQ_MAX_SIZE];
	uint32_t rx_lens[VIRTQ_MAX_SIZE];
};

void vnet_log(struct vnet *n, enum arcvm_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	if (!n->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n->log(n->log_opaque, level, msg);
}

pthread_mutex_t *vnet_lock(struct vnet *n)
{
	return &n->dev.lock;
}

struct io_loop *vnet_io(struct vnet *n)
{
	return n->dev.io;
}

const struct vnet_stats *vnet_stats(const struct vnet *n)
{
	return &n->stats;
}

enum vnet_tx_verdict vnet_tx_check(const struct vnet_hdr *h, uint64_t chain_len, bool gso_ok)
{
	if (chain_len < VNET_HDR_LEN + VNET_FRAME_MIN)
		return VNET_TX_UNDERSIZE;
	uint64_t frame = chain_len - VNET_HDR_LEN;
	if (frame > (gso_ok ? VNET_GSO_FRAME_MAX : VNET_FRAME_MAX))
		return VNET_TX_OVERSIZE;
	uint8_t allowed = gso_ok ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
	if (h->flags & ~allowed)
		return VNET_TX_BAD_HEADER;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint64_t end = (uint64_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2;
		if (end > frame)
			return VNET_TX_BAD_HEADER;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		/* Without segmentation a frame is bounded by the MTU. */
		return frame > VNET_FRAME_MAX ? VNET_TX_OVERSIZE : VNET_TX_OK;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!gso_ok || h->gso_size == 0 || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return VNET_TX_BAD_HEADER;
		return VNET_TX_OK;
	default:
		return VNET_TX_BAD_HEADER;   /* UFO, ECN: never offered */
	}
}

static void count_drop(struct vnet *n, enum vnet_tx_verdict v, uint64_t len)
{
	uint64_t *ctr = v == VNET_TX_UNDERSIZE ? &n->stats.tx_undersize
		      : v == VNET_TX_OVERSIZE ? &n->stats.tx_oversize : &n->stats.tx_bad_header;
	/* Once per kind, so a guest cannot flood the log. */
	if ((*ctr)++ == 0)
		vnet_log(n, ARCVM_LOG_WARN, "virtio-net: dropped a %llu-byte %s frame from the guest"
			 " (further drops are only counted)", (unsigned long long)len,
			 v == VNET_TX_UNDERSIZE ? "undersize" : v == VNET_TX_OVERSIZE ? "oversize"
			 : "badly headed");
}

/* Sends the frame in n->chain: the checked header copy, then the frame bytes
 * in guest memory. */
static void tx_one(struct vnet *n, unsigned qp)
{
	struct virtq_chain *c = &n->chain;
	struct vnet_hdr h;
	memset(&h, 0, sizeof(h));
	if (c->read_len >= VNET_HDR_LEN)
		virtq_chain_read(c, 0, &h, VNET_HDR_LEN);
	enum vnet_tx_verdict v = vnet_tx_check(&h, c->read_len, n->gso_tx);
	if (v != VNET_TX_OK) {
		count_drop(n, v, c->read_len < VNET_HDR_LEN ? 0 : c->read_len - VNET_HDR_LEN);
		return;
	}
	h.num_buffers = 0;
	n->tx_iov[0] = (struct iovec){ .iov_base = &h, .iov_len = VNET_HDR_LEN };
	int k = virtq_chain_slice(c, false, VNET_HDR_LEN, c->read_len - VNET_HDR_LEN,
				  n->tx_iov + 1, VIRTQ_CHAIN_MAX);
	if (k < 0 || n->be->ops->send(n->be, qp, n->tx_iov, k + 1, c->read_len) < 0) {
		n->stats.tx_errors++;
		return;
	}
	n->stats.tx_frames++;
}

static void tx_run(struct vnet *n, unsigned qi)
{
	struct virtio_dev *d = &n->dev;
	unsigned budget = VIRTIO_DEV_BUDGET;
	bool pushed = false;

	while (virtio_dev_pop(d, qi, &n->chain, &budget) == 1) {
		/* Sending can deliver replies at once (slirp answers ARP inside
		 * slirp_input), which reuses n->chain: keep the head. */
		uint16_t head = n->chain.head;
		tx_one(n, qi / 2);
		virtq_push(&d->vqs[qi], head, 0);
		pushed = true;
	}
	if (pushed && n->be->ops->tx_done)
		n->be->ops->tx_done(n->be);
	if (pushed)
		virtio_dev_used(d, &d->vqs[qi]);
}

/* Copies bytes [off, off + len) of header-then-frame into the chain at 0. */
static void rx_copy(struct virtq_chain *c, const struct vnet_hdr *h, const uint8_t *frame,
		    size_t off, size_t len)
{
	size_t dst = 0;
	if (off < VNET_HDR_LEN) {
		size_t k = VNET_HDR_LEN - off < len ? VNET_HDR_LEN - off : len;
		virtq_chain_write(c, 0, (const uint8_t *)h + off, k);
		dst = k;
		off += k;
		len -= k;
	}
	if (len)
		virtq_chain_write(c, dst, frame + (off - VNET_HDR_LEN), len);
}

/* Gives back the chains taken for a frame that is not delivered now. */
static int rx_abandon(struct vnet *n, struct virtq *q, unsigned taken, int rc)
{
	virtq_unpop(q, (uint16_t)taken);
	if (rc < 0)
		n->stats.rx_dropped++;
	return rc;
}

int vnet_rx_deliver(struct vnet *n, unsigned qp, const struct vnet_hdr *hdr, const void *frame,
		    size_t len)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->vqs[2 * qp];
	struct iovec nb[2];
	int nnb = 0;
	unsigned used = 0;
	size_t total = VNET_HDR_LEN + len, done = 0;

	if (!d->running || !q->ready || q->broken || qp >= n->pairs)
		return 0;
	struct vnet_hdr h = hdr ? *hdr : (struct vnet_hdr){ 0 };
	h.num_buffers = htole16(1);
	while (done < total) {
		/* A guest posting tiny buffers cannot make a frame take more
		 * chains than the ring holds. */
		if (used == q->size)
			return rx_abandon(n, q, used, -1);
		int r = virtq_pop(q, &n->chain);
		if (r < 0) {
			virtio_dev_broken(d);
			return rx_abandon(n, q, used, -1);
		}
		if (r == 0)
			return rx_abandon(n, q, used, 0);
		uint64_t room = n->chain.write_len;
		/* The header never straddles chains; without MRG_RXBUF the frame
		 * must fit in one chain. Too small is the guest's loss: dropped. */
		if ((used == 0 && room < VNET_HDR_LEN) || (!n->mrg && room < total))
			return rx_abandon(n, q, used + 1, -1);
		if (used == 0)
			nnb = virtq_chain_slice(&n->chain, true, offsetof(struct vnet_hdr, num_buffers),
						2, nb, 2);
		size_t take = room < total - done ? (size_t)room : total - done;
		rx_copy(&n->chain, &h, frame, done, take);
		n->rx_heads[used] = n->chain.head;
		n->rx_lens[used] = (uint32_t)take;
		used++;
		done += take;
	}
	uint16_t count = htole16((uint16_t)used);
	const uint8_t *src = (const uint8_t *)&count;
	for (int i = 0; i < nnb; i++) {
		memcpy(nb[i].iov_base, src, nb[i].iov_len);
		src += nb[i].iov_len;
	}
	for (unsigned i = 0; i < used; i++)
		virtq_push(q, n->rx_heads[i], n->rx_lens[i]);
	n->stats.rx_frames++;
	n->rx_pushed[qp] = true;
	return 1;
}

void vnet_count_rx_drop(struct vnet *n)
{
	n->stats.rx_dropped++;
}

void vnet_rx_flush(struct vnet *n, unsigned qp)
{
	if (qp < n->pairs && n->rx_pushed[qp]) {
		n->rx_pushed[qp] = false;
		virtio_dev_used(&n->dev, &n->dev.vqs[2 * qp]);
	}
}

/* One control command: class, command, data; the device writes an ack byte.
 * Only VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET is understood. */
static uint8_t ctrl_command(struct vnet *n, const struct virtq_chain *c)
{
	uint8_t cls_cmd[2];
	uint16_t pairs;
	if (virtq_chain_read(c, 0, cls_cmd, 2) < 0)
		return VIRTIO_NET_ERR;
	if (cls_cmd[0] != VIRTIO_NET_CTRL_MQ || cls_cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    virtq_chain_read(c, 2, &pairs, 2) < 0)
		return VIRTIO_NET_ERR;
	pairs = le16toh(pairs);
	return pairs >= 1 && pairs <= n->pairs ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
}

static void ctrl_run(struct vnet *n)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->vqs[n->ctrlq];
	unsigned budget = VIRTIO_DEV_BUDGET;
	bool pushed = false;

	while (virtio_dev_pop(d, n->ctrlq, &n->chain, &budget) == 1) {
		uint8_t ack = ctrl_command(n, &n->chain);
		if (virtq_chain_write(&n->chain, 0, &ack, 1) < 0) {
			virtq_set_broken(q, "control command without room for its ack");
			break;
		}
		virtq_push(q, n->chain.head, 1);
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(d, q);
}

static void vnet_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vnet *n = (struct vnet *)d;
	if (n->ctrlq && qi == n->ctrlq)
		ctrl_run(n);
	else if (qi & 1)
		tx_run(n, qi);
	else
		n->be->ops->rx_resume(n->be, qi / 2);
}

static void vnet_start(struct virtio_dev *d)
{
	struct vnet *n = (struct vnet *)d;
	n->mrg = virtio_dev_has(d, VIRTIO_NET_F_MRG_RXBUF);
	n->gso_tx = virtio_dev_has(d, VIRTIO_NET_F_CSUM);
	if (n->be->ops->start)
		n->be->ops->start(n->be, d->acked);
	for (unsigned i = 0; i < n->pairs; i++)
		n->be->ops->rx_resume(n->be, i);
}

static int vnet_attach(struct virtio_dev *d, struct arcvm_error *err)
{
	struct vnet *n = (struct vnet *)d;
	return n->be->ops->attach ? n->be->ops->attach(n->be, err) : 0;
}

static void vnet_destroy(struct virtio_dev *d)
{
	struct vnet *n = (struct vnet *)d;
	const struct vnet_stats *s = &n->stats;
	if (s->tx_undersize || s->tx_oversize || s->tx_bad_header || s->rx_dropped)
		vnet_log(n, ARCVM_LOG_WARN, "virtio-net: dropped from the guest: %llu oversize, %llu "
			 "undersize, %llu badly headed frames; %llu frames to the guest dropped",
			 (unsigned long long)s->tx_oversize, (unsigned long long)s->tx_undersize,
			 (unsigned long long)s->tx_bad_header, (unsigned long long)s->rx_dropped);
	vnet_log(n, ARCVM_LOG_INFO, "virtio-net: %llu frames sent, %llu received, %llu send errors",
		 (unsigned long long)s->tx_frames, (unsigned long long)s->rx_frames,
		 (unsigned long long)s->tx_errors);
	if (n->be)
		n->be->ops->destroy(n->be);
	free(n);
}

static const struct virtio_dev_ops vnet_ops = {
	.name = "virtio-net",
	.attach = vnet_attach,
	.queue_notify = vnet_queue_notify,
	.start = vnet_start,
	.destroy = vnet_destroy,
};

static int check_config(const struct arcvm_net *cfg, struct arcvm_error *err)
{
	if (cfg->mode != ARCVM_NET_USER && cfg->mode != ARCVM_NET_TAP)
		return err_set(err, ARCVM_E_INVALID, "virtio-net: unknown mode %d", (int)cfg->mode);
	if (cfg->mode == ARCVM_NET_TAP &&
	    (!cfg->tap_name || !cfg->tap_name[0] || strlen(cfg->tap_name) > 15))
		return err_set(err, ARCVM_E_INVALID, "virtio-net: a TAP device needs a name of 1 to 15 bytes");
	if (cfg->nforwards < 0 || cfg->nforwards > ARCVM_MAX_FORWARDS)
		return err_set(err, ARCVM_E_INVALID, "virtio-net: %d port forwards, at most %d",
			       cfg->nforwards, ARCVM_MAX_FORWARDS);
	if (cfg->nforwards && cfg->mode != ARCVM_NET_USER)
		return err_set(err, ARCVM_E_INVALID,
			       "virtio-net: port forwards need user-mode networking, not TAP");
	for (int i = 0; i < cfg->nforwards; i++)
		if (!cfg->forwards[i].host_port || !cfg->forwards[i].guest_port)
			return err_set(err, ARCVM_E_INVALID, "virtio-net: forward %d has port 0", i);
	if (cfg->mac[0] & 1)
		return err_set(err, ARCVM_E_INVALID, "virtio-net: MAC %02x:... is a multicast address",
			       cfg->mac[0]);
	return 0;
}

int vnet_create(const struct arcvm_net *cfg, int index, int cpus, vnet_log_fn log,
		void *log_opaque, struct virtio_dev **out, struct arcvm_error *err)
{
	static const uint8_t zero[6];
	int rc = check_config(cfg, err);
	if (rc)
		return rc;
	struct vnet *n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(err, ARCVM_E_NOMEM, "virtio-net: out of memory");
	n->log = log;
	n->log_opaque = log_opaque;
	n->pairs = 1;
	if (cfg->mode == ARCVM_NET_TAP && cpus > 1)
		n->pairs = cpus < VNET_MAX_PAIRS ? (unsigned)cpus : VNET_MAX_PAIRS;
	rc = cfg->mode == ARCVM_NET_TAP ? vnet_tap_create(n, cfg, n->pairs, &n->be, err)
					: vnet_slirp_create(n, cfg, &n->be, err);
	if (rc) {
		free(n);
		return rc;
	}
	n->pairs = n->be->pairs;
	n->ctrlq = n->pairs > 1 ? 2 * n->pairs : 0;

	if (memcmp(cfg->mac, zero, 6) == 0) {
		static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
		memcpy(n->config.mac, base, 6);
		n->config.mac[5] = (uint8_t)(base[5] + index);
	} else {
		memcpy(n->config.mac, cfg->mac, 6);
	}
	n->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->config.max_virtqueue_pairs = htole16((uint16_t)n->pairs);

	n->dev.ops = &vnet_ops;
	n->dev.device_id = VIRTIO_ID_NET;
	n->dev.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
			  (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTQ_F_INDIRECT_DESC) |
			  (1ull << VIRTQ_F_EVENT_IDX) | n->be->features;
	if (n->pairs > 1)
		n->dev.features |= (1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_CTRL_VQ);
	n->dev.nqueues = 2 * n->pairs + (n->pairs > 1);
	for (unsigned i = 0; i < n->dev.nqueues; i++)
		n->dev.queue_max[i] = VNET_QUEUE_SIZE;
	n->dev.config = &n->config;
	n->dev.config_len = sizeof(n->config);
	*out = &n->dev;
	return 0;
}

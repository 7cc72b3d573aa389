/*
 * net_tap.c - virtio-net on a host TAP device: IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, so the virtio-net header travels with each frame and the
 * host kernel does the checksum and segmentation work the guest offloads
 * (TUNSETOFFLOAD follows what the guest accepted). With several queue pairs
 * the device is opened IFF_MULTI_QUEUE, one fd per pair, each served on its
 * own by the I/O thread.
 *
 * Transmit writes the checked header copy and the frame straight from guest
 * memory (writev). Receive reads one frame into a per-queue buffer and copies
 * it into the guest's buffers; when the guest has no room, the frame is held
 * and the fd parked until the guest kicks the receive queue, so the host
 * kernel queues (and in the end drops) instead of the VMM spinning.
 *
 * The device is created when it does not exist, which needs CAP_NET_ADMIN;
 * bringing it up and addressing it is left to the host (docs/net.md).
 *
 * Thread ownership: as in net.h, under the device lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/err.h"
#include "virtio/net.h"

/* One read: the header and the largest GSO frame the kernel may hand us. */
#define TAP_BUF (VNET_HDR_LEN + VNET_GSO_FRAME_MAX)

struct vnet_tap;

struct tap_queue {
	struct vnet_tap *t;
	unsigned qp;
	int fd;
	bool watched;           /* on the I/O loop */
	bool reading;           /* ... and not parked */
	size_t pending;         /* bytes of a frame held in buf, 0: none */
	uint8_t *buf;
};

struct vnet_tap {
	struct vnet_backend be;         /* first */
	bool offloads;                  /* TUNSETOFFLOAD works on this device */
	struct tap_queue q[VNET_MAX_PAIRS];
};

static void set_reading(struct tap_queue *q, bool on)
{
	if (!q->watched || q->reading == on)
		return;
	if (io_loop_mod(vnet_io(q->t->be.net), q->fd, on ? EPOLLIN : 0) == 0)
		q->reading = on;
}

/* Moves frames from the TAP queue to the guest until either runs dry. */
static void tap_pump(struct tap_queue *q)
{
	struct vnet *n = q->t->be.net;
	for (unsigned i = 0; i < VIRTIO_DEV_BUDGET; i++) {
		if (!q->pending) {
			ssize_t k = read(q->fd, q->buf, TAP_BUF);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				break;      /* EAGAIN, or the device went away */
			if ((size_t)k < VNET_HDR_LEN + VNET_FRAME_MIN)
				continue;
			q->pending = (size_t)k;
		}
		int r = vnet_rx_deliver(n, q->qp, (const struct vnet_hdr *)q->buf,
					q->buf + VNET_HDR_LEN, q->pending - VNET_HDR_LEN);
		if (r == 0) {
			set_reading(q, false);
			break;
		}
		q->pending = 0;
	}
	vnet_rx_flush(n, q->qp);
}

static void on_tap(void *opaque, uint32_t events)
{
	struct tap_queue *q = opaque;
	pthread_mutex_lock(vnet_lock(q->t->be.net));
	tap_pump(q);
	pthread_mutex_unlock(vnet_lock(q->t->be.net));
}

static int tap_send(struct vnet_backend *b, unsigned qp, const struct iovec *iov, int niov,
		    size_t len)
{
	struct vnet_tap *t = (struct vnet_tap *)b;
	if (qp >= b->pairs || niov > IOV_MAX)
		return -1;
	for (;;) {
		ssize_t k = writev(t->q[qp].fd, iov, niov);
		if (k >= 0)
			return (size_t)k == len ? 0 : -1;
		if (errno != EINTR)
			return -1;   /* EAGAIN: the host's queue is full; dropped like a busy wire */
	}
}

static void tap_rx_resume(struct vnet_backend *b, unsigned qp)
{
	struct vnet_tap *t = (struct vnet_tap *)b;
	if (qp >= b->pairs)
		return;
	tap_pump(&t->q[qp]);
	if (!t->q[qp].pending)
		set_reading(&t->q[qp], true);
}

/* The host kernel may hand the guest checksum-less and TSO frames only
 * when the guest said it can take them. */
static void tap_start(struct vnet_backend *b, uint64_t features)
{
	struct vnet_tap *t = (struct vnet_tap *)b;
	unsigned flags = 0;
	if (!t->offloads)
		return;
	if (features & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (features & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
		if (features & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			flags |= TUN_F_TSO6;
	}
	for (unsigned i = 0; i < b->pairs; i++)
		if (ioctl(t->q[i].fd, TUNSETOFFLOAD, flags) < 0)
			vnet_log(b->net, ARCVM_LOG_WARN, "virtio-net: TUNSETOFFLOAD 0x%x: %s", flags,
				 strerror(errno));
}

static int tap_attach(struct vnet_backend *b, struct arcvm_error *err)
{
	struct vnet_tap *t = (struct vnet_tap *)b;
	struct io_loop *io = vnet_io(b->net);
	for (unsigned i = 0; io && i < b->pairs; i++) {
		int rc = io_loop_add(io, t->q[i].fd, EPOLLIN, on_tap, &t->q[i], err);
		if (rc)
			return rc;
		t->q[i].watched = t->q[i].reading = true;
	}
	return 0;
}

static void tap_destroy(struct vnet_backend *b)
{
	struct vnet_tap *t = (struct vnet_tap *)b;
	for (unsigned i = 0; i < VNET_MAX_PAIRS; i++) {
		struct tap_queue *q = &t->q[i];
		if (q->watched)
			io_loop_del(vnet_io(b->net), q->fd);
		if (q->fd >= 0)
			close(q->fd);
		free(q->buf);
	}
	free(t);
}

static const struct vnet_backend_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.rx_resume = tap_rx_resume,
	.start = tap_start,
	.attach = tap_attach,
	.destroy = tap_destroy,
};

/* Opens one queue of the device `name`. */
static int tap_open(const char *name, bool multi, int *out, struct arcvm_error *err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno == ENOENT ? ARCVM_E_NOT_FOUND : err_from_errno(errno),
				 errno, "virtio-net: cannot open /dev/net/tun");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	int hdr = VNET_HDR_LEN;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return err_errno(err, e == EPERM ? ARCVM_E_PERMISSION : ARCVM_E_IO, e,
				 "virtio-net: cannot attach to TAP device %s%s", name,
				 e == EPERM ? " (creating one needs CAP_NET_ADMIN, or create it "
					      "first with 'ip tuntap add')" : "");
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;
		close(fd);
		return err_errno(err, ARCVM_E_IO, e, "virtio-net: TUNSETVNETHDRSZ on %s", name);
	}
	*out = fd;
	return 0;
}

static int tap_open_all(struct vnet_tap *t, const char *name, unsigned pairs,
			struct arcvm_error *err)
{
	for (unsigned i = 0; i < pairs; i++) {
		int rc = tap_open(name, pairs > 1, &t->q[i].fd, err);
		if (rc)
			return rc;
		t->q[i].buf = malloc(TAP_BUF);
		if (!t->q[i].buf)
			return err_set(err, ARCVM_E_NOMEM, "virtio-net: out of memory");
	}
	t->be.pairs = pairs;
	return 0;
}

int vnet_tap_create(struct vnet *n, const struct arcvm_net *cfg, unsigned pairs,
		    struct vnet_backend **out, struct arcvm_error *err)
{
	struct vnet_tap *t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(err, ARCVM_E_NOMEM, "virtio-net: out of memory");
	t->be = (struct vnet_backend){ .ops = &tap_ops, .net = n };
	for (unsigned i = 0; i < VNET_MAX_PAIRS; i++)
		t->q[i] = (struct tap_queue){ .t = t, .qp = i, .fd = -1 };
	if (pairs < 1 || pairs > VNET_MAX_PAIRS)
		pairs = 1;
	int rc = tap_open_all(t, cfg->tap_name, pairs, err);
	if (rc && pairs > 1) {
		/* An existing single-queue device: one pair it is. */
		for (unsigned i = 0; i < pairs; i++) {
			if (t->q[i].fd >= 0)
				close(t->q[i].fd);
			free(t->q[i].buf);
			t->q[i] = (struct tap_queue){ .t = t, .qp = i, .fd = -1 };
		}
		vnet_log(n, ARCVM_LOG_INFO, "virtio-net: %s has no multiqueue support: %s; using "
			 "one queue pair", cfg->tap_name, err ? err->msg : "");
		rc = tap_open_all(t, cfg->tap_name, 1, err);
	}
	if (rc) {
		tap_destroy(&t->be);
		return rc;
	}
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	t->offloads = ioctl(t->q[0].fd, TUNSETOFFLOAD, all) == 0 &&
		      ioctl(t->q[0].fd, TUNSETOFFLOAD, 0) == 0;
	if (t->offloads)
		t->be.features = (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
				 (1ull << VIRTIO_NET_F_GUEST_TSO4) |
				 (1ull << VIRTIO_NET_F_GUEST_TSO6) |
				 (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6);
	*out = &t->be;
	return 0;
}

/*
 * vsock_fake_guest.h - a fake vsock guest driver for unit tests: the device
 * runs on a real I/O loop thread while the test thread plays the guest,
 * posting receive buffers, sending packets and reading what the device sent.
 * Header-only (static inline), on top of virtio_fake_driver.h.
 */
#ifndef TESTS_VSOCK_FAKE_GUEST_H
#define TESTS_VSOCK_FAKE_GUEST_H

#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"
#include "virtio/vsock.h"
#include "virtio_fake_driver.h"

#define G_RXQ 0
#define G_TXQ 1
#define G_EVQ 2
#define G_QS 64
#define G_RXBUF 4096
#define G_TXBUF (4096 + 64)
#define G_CID 3
#define G_HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))

struct gst {
	struct fd_driver f;
	struct io_loop *io;
	char dir[64], path[108];
	uint64_t rx_gpa[G_QS], tx_gpa[G_QS], ev_gpa[G_QS];
	bool repost;                    /* give each used receive buffer back at once */
	unsigned rx_posted;             /* receive buffers the device holds */
};

static inline uint64_t g_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void g_post_rx(struct gst *g, unsigned n)
{
	for (unsigned i = 0; i < n && g->rx_posted < G_QS; i++) {
		uint16_t d = g->f.q[G_RXQ].next_desc;
		struct fd_seg s = { g->rx_gpa[d], G_RXBUF, true };
		fd_post(&g->f, G_RXQ, &s, 1);
		g->rx_posted++;
	}
	fd_wr(&g->f, VIRTIO_MMIO_QUEUE_NOTIFY, G_RXQ);
}

/* A device on a fresh I/O loop (not started), attached to fake memory with
 * no driver yet; `path` is its socket. */
static inline int g_create(struct gst *g)
{
	memset(g, 0, sizeof(*g));
	strcpy(g->dir, "/tmp/arcvm-vsock-XXXXXX");
	if (!mkdtemp(g->dir))
		return -1;
	snprintf(g->path, sizeof(g->path), "%s/v.sock", g->dir);
	struct virtio_dev *dev;
	if (io_loop_create(&g->io, NULL) < 0 || vsock_create(G_CID, g->path, &dev, NULL) < 0)
		return -1;
	return fd_attach(&g->f, dev, g->io, NULL);
}

/* Brings the device up with `features` on a fresh I/O loop. */
static inline int g_setup_features(struct gst *g, uint64_t features)
{
	if (g_create(g) < 0)
		return -1;
	fd_negotiate(&g->f, features);
	for (unsigned i = 0; i < 3; i++)
		fd_setup_queue(&g->f, i, G_QS);
	fd_wr(&g->f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	for (unsigned i = 0; i < G_QS; i++) {
		g->rx_gpa[i] = fd_alloc(&g->f, G_RXBUF);
		g->tx_gpa[i] = fd_alloc(&g->f, G_TXBUF);
		g->ev_gpa[i] = fd_alloc(&g->f, sizeof(struct virtio_vsock_event));
	}
	g->repost = true;
	if (io_loop_start(g->io, NULL) < 0)
		return -1;
	g_post_rx(g, G_QS);
	return 0;
}

/* Brings the device up on a fresh I/O loop; `path` is its socket. */
static inline int g_setup(struct gst *g)
{
	return g_setup_features(g, 1ull << VIRTIO_F_VERSION_1);
}

/* Posts n event buffers, as Linux keeps 8 posted, and kicks. */
static inline void g_post_events(struct gst *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = g->f.q[G_EVQ].next_desc;
		struct fd_seg s = { g->ev_gpa[d], sizeof(struct virtio_vsock_event), true };
		fd_post(&g->f, G_EVQ, &s, 1);
	}
	fd_wr(&g->f, VIRTIO_MMIO_QUEUE_NOTIFY, G_EVQ);
}

static inline void g_teardown(struct gst *g)
{
	io_loop_stop(g->io);
	fd_detach(&g->f);
	io_loop_destroy(g->io);
	rmdir(g->dir);
}

static inline struct virtio_vsock_hdr g_hdr(uint32_t src_port, uint32_t dst_port, uint16_t op,
					    uint32_t flags, uint32_t len, uint32_t buf_alloc,
					    uint32_t fwd_cnt)
{
	return (struct virtio_vsock_hdr){
		.src_cid = G_CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port,
		.dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op,
		.flags = flags, .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
	};
}

/* Sends a header and `plen` payload bytes (the header's len may differ, for
 * malformed packets): one descriptor, or header and payload apart. Waits
 * until the device has returned the chain; false if it never does. */
static inline bool g_send_raw(struct gst *g, const void *hdr, uint32_t hlen, const void *payload,
			      uint32_t plen, bool split)
{
	struct fd_queue *q = &g->f.q[G_TXQ];
	uint16_t d0 = q->next_desc, d1 = (uint16_t)((d0 + 1) % G_QS);
	struct fd_seg s[2];
	unsigned n = 1;
	memcpy(fd_host(&g->f, g->tx_gpa[d0]), hdr, hlen);
	if (split && plen) {
		memcpy(fd_host(&g->f, g->tx_gpa[d1]), payload, plen);
		s[0] = (struct fd_seg){ g->tx_gpa[d0], hlen, false };
		s[1] = (struct fd_seg){ g->tx_gpa[d1], plen, false };
		n = 2;
	} else {
		if (plen)
			memcpy((uint8_t *)fd_host(&g->f, g->tx_gpa[d0]) + hlen, payload, plen);
		s[0] = (struct fd_seg){ g->tx_gpa[d0], hlen + plen, false };
	}
	uint16_t head = fd_post(&g->f, G_TXQ, s, n);
	fd_wr(&g->f, VIRTIO_MMIO_QUEUE_NOTIFY, G_TXQ);
	uint64_t end = g_now_ms() + 5000;
	uint32_t id, len;
	while (!fd_used(&g->f, G_TXQ, &id, &len)) {
		if (g_now_ms() > end)
			return false;
		usleep(200);
	}
	return id == head;
}

static inline bool g_send(struct gst *g, struct virtio_vsock_hdr h, const void *payload, bool split)
{
	return g_send_raw(g, &h, G_HDR, payload, h.len, split);
}

/* Takes the next packet the device sent, waiting up to timeout_ms. payload
 * (may be NULL) gets h->len bytes. */
static inline bool g_recv(struct gst *g, struct virtio_vsock_hdr *h, void *payload, int timeout_ms)
{
	uint64_t end = g_now_ms() + (uint64_t)timeout_ms;
	uint32_t id, len;
	while (!fd_used(&g->f, G_RXQ, &id, &len)) {
		if (g_now_ms() >= end)
			return false;
		usleep(200);
	}
	g->rx_posted--;
	const uint8_t *p = fd_host(&g->f, g->rx_gpa[id % G_QS]);
	memcpy(h, p, G_HDR);
	if (len != G_HDR + h->len)
		return false;   /* the used length must cover exactly the packet */
	if (payload)
		memcpy(payload, p + G_HDR, h->len);
	if (g->repost)
		g_post_rx(g, 1);
	return true;
}

/* A host client on the device's socket (blocking, 5 s receive timeout). */
static inline int g_client(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads one line (up to the newline, kept) into buf; returns its length,
 * 0 at EOF before any byte, -1 on error or timeout. */
static inline int g_read_line(int fd, char *buf, int max)
{
	int n = 0;
	while (n < max - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return n ? -1 : (int)r;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

/* True when the host end sees EOF or a reset within the receive timeout. */
static inline bool g_closed(int fd)
{
	char c;
	ssize_t r = read(fd, &c, 1);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

static inline uint64_t g_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

#define G_FNV_INIT 0xcbf29ce484222325ull

/* Byte i of a test stream. */
static inline uint8_t g_pattern(uint64_t i, unsigned seed)
{
	uint64_t x = (i + seed) * 0x9E3779B97F4A7C15ull;
	return (uint8_t)(x >> 41);
}

#endif

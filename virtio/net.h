/*
 * net.h - virtio-net device (virtio 1.x, section 5.1) and its two backends:
 * user-mode NAT through libslirp (net_slirp.c) and a host TAP device
 * (net_tap.c). docs/net.md describes both.
 *
 * Queues: receiveq(i) = 2i, transmitq(i) = 2i + 1 for each queue pair i,
 * then the control queue when there are several pairs (VIRTIO_NET_F_MQ).
 *
 * Threads: everything below runs on the I/O thread with the device lock held
 * (queue_notify, and the backends' fd and timer handlers, which take it);
 * create and destroy run before the I/O thread starts and after it stopped.
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "arcvm.h"
#include "virtio/device.h"

#define VNET_QUEUE_SIZE 256
#define VNET_MAX_PAIRS  ((VIRTIO_DEV_MAX_QUEUES - 1) / 2)

/* The virtio-net header as every VERSION_1 device uses it (with num_buffers). */
#define VNET_HDR_LEN 12
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Frame sizes, Ethernet header included, FCS excluded. */
#define VNET_FRAME_MIN 14                  /* an Ethernet header */
#define VNET_FRAME_MAX (14 + 4 + 1500)     /* one VLAN tag, a 1500-byte MTU */
#define VNET_GSO_FRAME_MAX (14 + 4 + 65535) /* a TSO super-frame */

/* What vnet_tx_check thinks of a frame the guest transmits. */
enum vnet_tx_verdict {
	VNET_TX_OK = 0,
	VNET_TX_UNDERSIZE,      /* shorter than an Ethernet header */
	VNET_TX_OVERSIZE,       /* longer than the negotiated maximum */
	VNET_TX_BAD_HEADER,     /* a vnet header the backend must not be given */
};

/*
 * Judges a frame from the guest: `chain_len` bytes of readable buffer, the
 * first VNET_HDR_LEN of them the header `h` (already copied out of guest
 * memory). `gso_ok`: the host TSO features were negotiated, so GSO
 * super-frames up to VNET_GSO_FRAME_MAX and checksum offload are allowed;
 * otherwise frames end at VNET_FRAME_MAX and the header must ask for nothing.
 */
enum vnet_tx_verdict vnet_tx_check(const struct vnet_hdr *h, uint64_t chain_len, bool gso_ok);

/* Counters, also logged when the device is destroyed. */
struct vnet_stats {
	uint64_t tx_frames, tx_undersize, tx_oversize, tx_bad_header, tx_errors;
	uint64_t rx_frames, rx_dropped;
};

struct vnet;
struct vnet_backend;

struct vnet_backend_ops {
	const char *name;
	/* Sends one frame from queue pair qp: iov holds the vnet header and the
	 * frame, already validated; len is their total. Returns 0, or -1 when
	 * the backend could not take it (counted as a tx error). */
	int (*send)(struct vnet_backend *b, unsigned qp, const struct iovec *iov, int niov,
		    size_t len);
	/* The end of a batch of sends (one queue run). NULL: nothing to do. */
	void (*tx_done)(struct vnet_backend *b);
	/* The guest posted receive buffers on qp (or the driver became ready):
	 * deliver what is held and watch the host side again. */
	void (*rx_resume)(struct vnet_backend *b, unsigned qp);
	/* The driver set DRIVER_OK with `features`. NULL: nothing to do. */
	void (*start)(struct vnet_backend *b, uint64_t features);
	/* Called once the device is on the I/O loop (d->io is set). */
	int (*attach)(struct vnet_backend *b, struct arcvm_error *err);
	void (*destroy)(struct vnet_backend *b);
};

/* Every backend embeds this first. */
struct vnet_backend {
	const struct vnet_backend_ops *ops;
	struct vnet *net;
	uint64_t features;      /* extra device features the backend can honour */
	unsigned pairs;         /* queue pairs it serves, 1..VNET_MAX_PAIRS */
};

/* Logs through the VM's log callback. */
typedef void (*vnet_log_fn)(void *opaque, enum arcvm_log_level level, const char *msg);

/*
 * Creates a virtio-net device for `cfg` (mode, MAC, forwards); `index` picks
 * the default MAC, `cpus` the number of TAP queue pairs. On success *out is
 * the device (the transport destroys it); fails with ARCVM_E_INVALID on a bad
 * config, ARCVM_E_PERMISSION / ARCVM_E_IO when the backend cannot be set up.
 */
int vnet_create(const struct arcvm_net *cfg, int index, int cpus, vnet_log_fn log,
		void *log_opaque, struct virtio_dev **out, struct arcvm_error *err);

/*
 * Delivers one received frame to the guest on queue pair qp: `hdr` (NULL: a
 * header asking for nothing) then `len` bytes of frame. Returns 1 when
 * delivered, 0 when the guest has posted too little buffer space for it
 * right now (nothing consumed: the backend holds the frame and waits for
 * rx_resume), -1 when it was dropped (counted) and must not be retried.
 */
int vnet_rx_deliver(struct vnet *n, unsigned qp, const struct vnet_hdr *hdr, const void *frame,
		    size_t len);

/* Counts a frame for the guest that a backend had to drop. */
void vnet_count_rx_drop(struct vnet *n);

/* Raises the used-buffer interrupt of qp's receive queue after deliveries. */
void vnet_rx_flush(struct vnet *n, unsigned qp);

/* The device's lock, for backend handlers that run outside queue_notify. */
pthread_mutex_t *vnet_lock(struct vnet *n);
struct io_loop *vnet_io(struct vnet *n);
void vnet_log(struct vnet *n, enum arcvm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const struct vnet_stats *vnet_stats(const struct vnet *n);

/* Backend constructors (net_slirp.c, net_tap.c). */
int vnet_slirp_create(struct vnet *n, const struct arcvm_net *cfg, struct vnet_backend **out,
		      struct arcvm_error *err);
int vnet_tap_create(struct vnet *n, const struct arcvm_net *cfg, unsigned pairs,
		    struct vnet_backend **out, struct arcvm_error *err);

/* The guest side of user-mode NAT. */
#define VNET_SLIRP_NET     "10.0.2.0"
#define VNET_SLIRP_HOST    "10.0.2.2"
#define VNET_SLIRP_DNS     "10.0.2.3"
#define VNET_SLIRP_GUEST   "10.0.2.15"

#endif

/*
 * vsock_conn.h - one vsock stream connection between the guest and a host
 * Unix socket, and the bounded table that holds them: state, ports, credit
 * accounting in both directions, and the buffer of guest data the host
 * socket has not taken yet.
 *
 * Credit (virtio 1.2, 5.10.6.3): each side advertises buf_alloc (its receive
 * buffer) and fwd_cnt (bytes it has consumed so far). The sender may have at
 * most buf_alloc - (sent - fwd_cnt) bytes in flight. Counters are free-running
 * u32 and compared with wrapping subtraction.
 *
 * Threads: no locking here; the device (virtio/vsock.c) uses every
 * connection and the table only under its device lock.
 */
#ifndef VIRTIO_VSOCK_CONN_H
#define VIRTIO_VSOCK_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VSOCK_MAX_CONNS     256          /* connections in any state, per device */
#define VSOCK_CONN_BUF      (64u << 10)  /* host receive buffer advertised to the guest */
#define VSOCK_CREDIT_THRESH (VSOCK_CONN_BUF / 4) /* fwd_cnt progress that earns an update */
#define VSOCK_LINE_MAX      32           /* "CONNECT <port>\n" including the newline */
#define VSOCK_CONN_BUCKETS  512
#define VSOCK_HOST_PORT_MIN (1u << 30)   /* local ports of host-initiated connections */

enum vsock_conn_state {
	VSOCK_CONN_HANDSHAKE,    /* host client: reading its CONNECT line */
	VSOCK_CONN_CONNECTING,   /* REQUEST to the guest sent or pending, awaiting RESPONSE */
	VSOCK_CONN_ESTABLISHED,
};

/* Control packets owed to the guest (bits of vsock_conn.pending). */
#define VSOCK_PEND_REQUEST  1u
#define VSOCK_PEND_RESPONSE 2u
#define VSOCK_PEND_SHUTDOWN 4u   /* flags in shut_sent */
#define VSOCK_PEND_CREDIT   8u

struct vsock_conn {
	enum vsock_conn_state state;
	int fd;                         /* host socket, non-blocking; owned */
	uint32_t local_port;            /* port on CID 2 */
	uint32_t peer_port;             /* port on the guest; valid once hashed */
	uint64_t deadline_ms;           /* HANDSHAKE/CONNECTING: CLOCK_MONOTONIC limit */
	unsigned pending;               /* VSOCK_PEND_* */
	uint32_t events;                /* what the I/O loop watches fd for (0: parked) */

	/* Host to guest. */
	uint32_t sent;                  /* payload bytes sent to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;  /* the guest's last advertisement */
	bool readable;                  /* fd may have data: EPOLLIN not armed meanwhile */
	bool host_eof;                  /* fd reached EOF; SHUTDOWN(SEND) owed or sent */
	bool guest_no_recv;             /* the guest sent SHUTDOWN(RCV) */

	/* Guest to host. */
	uint32_t recv_cnt;              /* payload bytes accepted from the guest */
	uint32_t fwd_cnt;               /* ... of which written to fd */
	uint32_t fwd_told;              /* fwd_cnt as last told to the guest */
	bool guest_no_send;             /* the guest sent SHUTDOWN(SEND) */
	bool wr_shut;                   /* shutdown(fd, SHUT_WR) done */
	uint8_t *buf;                   /* VSOCK_CONN_BUF ring, allocated on first use */
	uint32_t head, len;

	uint32_t shut_sent;             /* flags of the SHUTDOWN owed to the guest */

	char line[VSOCK_LINE_MAX];      /* HANDSHAKE: bytes of the CONNECT line so far */
	unsigned line_len;

	/* Links owned by the table and the device. */
	struct vsock_conn *hnext;               /* hash chain */
	struct vsock_conn *prev, *next;         /* all connections */
	struct vsock_conn *rx_prev, *rx_next;   /* device's "has something for the guest" list */
	bool in_rx;
	bool hashed;
	bool used;                      /* the slot holds a live connection */
	void *owner;                    /* the device; constant */
};

/* Connections live in a fixed pool of slots that outlives every one of them,
 * so an I/O loop event that raced with a close finds a free (or reused) slot,
 * never freed memory. */
struct vsock_conn_table {
	struct vsock_conn slot[VSOCK_MAX_CONNS];
	struct vsock_conn *bucket[VSOCK_CONN_BUCKETS];
	struct vsock_conn *all;
	struct vsock_conn *free_list;   /* chained through next */
	unsigned count;
	uint32_t next_port;
};

/* Empties the table; every slot's owner is set to `owner`. */
void vsock_conn_table_init(struct vsock_conn_table *t, void *owner);

/* A new connection on fd in state `st`, counted and on the all-list but not
 * hashed. NULL when VSOCK_MAX_CONNS are open; fd is then left to the caller. */
struct vsock_conn *vsock_conn_new(struct vsock_conn_table *t, int fd, enum vsock_conn_state st);

/* Sets the ports and hashes c. Fails (-1, nothing changed) when another
 * connection already has these ports. */
int vsock_conn_hash(struct vsock_conn_table *t, struct vsock_conn *c, uint32_t local,
		    uint32_t peer);

struct vsock_conn *vsock_conn_find(const struct vsock_conn_table *t, uint32_t local,
				   uint32_t peer);

/* A local port >= VSOCK_HOST_PORT_MIN that no connection to guest port
 * `peer` uses. */
uint32_t vsock_conn_pick_port(struct vsock_conn_table *t, uint32_t peer);

/* Unlinks c from the table, frees its buffer and returns the slot. Closes
 * nothing: the caller closes and unwatches fd first. */
void vsock_conn_free(struct vsock_conn_table *t, struct vsock_conn *c);

/* Bytes the guest has room for now (0 if it shrank its buffer below what is
 * in flight). */
uint32_t vsock_conn_peer_credit(const struct vsock_conn *c);

/* Takes the guest's buf_alloc and fwd_cnt from a packet header. */
void vsock_conn_peer_update(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt);

/* True when the guest may send `len` more bytes within our advertisement. */
bool vsock_conn_recv_fits(const struct vsock_conn *c, uint32_t len);

/*
 * Guest payload for the host socket: writes what fd takes now and keeps the
 * rest in the buffer (vsock_conn_recv_fits must have said yes). Returns 0,
 * ARCVM_E_NOMEM when the buffer cannot be had, or ARCVM_E_IO when the host
 * socket failed (peer gone). fwd_cnt grows by what fd took.
 */
int vsock_conn_recv(struct vsock_conn *c, const struct iovec *iov, int niov, uint32_t len);

/* Writes buffered bytes to fd. Returns 0 (the buffer may still hold bytes
 * if fd is full) or ARCVM_E_IO. */
int vsock_conn_flush(struct vsock_conn *c);

/* True when the guest should hear our fwd_cnt: enough progress since we last
 * told it that it may be waiting for room. */
bool vsock_conn_credit_due(const struct vsock_conn *c);

#endif

/*
 * vsock.c - virtio-vsock device: queue 0 receives (host to guest), queue 1
 * transmits (guest to host), queue 2 carries events (only the transport
 * reset a restored device sends).
 *
 * Every guest packet is validated before anything acts on it: the header must
 * be whole, come from the guest's CID to CID 2, be a stream packet with a
 * known op, and carry a length within VSOCK_MAX_PKT_LEN, within the chain and
 * (for RW) within the credit we advertised. Bad packets are dropped (wrong
 * CIDs, short header) or answered with RST.
 *
 * Host to guest: nothing is buffered. A connection with something to say (a
 * control packet it owes, or a readable host socket while the guest has
 * credit) sits on the rx list; rx_pump() takes receive chains and has each
 * connection on the list write one packet, reading socket data straight
 * into guest memory. While a connection's socket is known readable, EPOLLIN
 * is not armed (the fd is parked), so a guest that posts no receive buffers
 * or grants no credit costs no wake-ups; a receive kick or a CREDIT_UPDATE
 * runs the pump again.
 *
 * Thread ownership: everything in struct vsock is used under the device lock:
 * by the I/O thread (queue_notify and the fd handlers) and by the vCPU
 * thread in reset. create/attach run before the I/O thread starts, destroy
 * after it stopped.
 */
#include "virtio/vsock.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "util/snapbuf.h"
#include "virtio/vsock_conn.h"
#include "virtio/vsock_uds.h"

#define RXQ 0
#define TXQ 1
#define EVQ 2
#define VIRTIO_ID_VSOCK_DEV 19
#define HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define ACCEPT_BUDGET 16

struct vsock_rst {
	uint32_t local, peer;
};

struct vsock {
	struct virtio_dev dev;          /* first: the transport sees this */
	uint8_t config[8];              /* guest_cid, little-endian */
	uint64_t guest_cid;
	char *path;
	int listen_fd, timer_fd;
	bool listen_watched, timer_watched;

	struct vsock_conn_table conns;
	struct vsock_conn *rx_head, *rx_tail;   /* connections with something for the guest */
	struct vsock_rst rst[VSOCK_RST_QUEUE];  /* ring of resets for unknown connections */
	unsigned rst_head, rst_len;

	bool rx_held;                   /* rx_chain was popped and not used yet */
	/* A restore sent TRANSPORT_RESET and the guest has not yet handled it
	 * (it posts the event buffer again when it has, moving the event
	 * queue's available index past reset_avail): until then new host
	 * connections wait in the listen backlog, or the guest's reset, run
	 * late, would close them too. */
	bool reset_pending;
	uint16_t reset_avail;
	struct virtq_chain rx_chain;
	struct virtq_chain tx_chain;
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

/* A guest packet header, in host byte order. */
struct pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len, flags, buf_alloc, fwd_cnt;
	uint16_t type, op;
};

static void on_conn(void *opaque, uint32_t events);

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the rx list and the reset ring ---- */

static void rx_mark(struct vsock *v, struct vsock_conn *c)
{
	if (c->in_rx)
		return;
	c->in_rx = true;
	c->rx_next = NULL;
	c->rx_prev = v->rx_tail;
	if (v->rx_tail)
		v->rx_tail->rx_next = c;
	else
		v->rx_head = c;
	v->rx_tail = c;
}

static void rx_unlink(struct vsock *v, struct vsock_conn *c)
{
	if (!c->in_rx)
		return;
	if (c->rx_prev)
		c->rx_prev->rx_next = c->rx_next;
	else
		v->rx_head = c->rx_next;
	if (c->rx_next)
		c->rx_next->rx_prev = c->rx_prev;
	else
		v->rx_tail = c->rx_prev;
	c->in_rx = false;
	c->rx_prev = c->rx_next = NULL;
}

/* Owes the guest an RST from (2, local) to (guest, peer). Dropped when the
 * ring is full: the guest's next packet on that connection asks again. */
static void queue_rst(struct vsock *v, uint32_t local, uint32_t peer)
{
	if (v->rst_len == VSOCK_RST_QUEUE)
		return;
	v->rst[(v->rst_head + v->rst_len) % VSOCK_RST_QUEUE] = (struct vsock_rst){ local, peer };
	v->rst_len++;
}

/* ---- connections and their fds ---- */

static bool can_send_data(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONN_ESTABLISHED && c->readable && !c->host_eof &&
	       !c->guest_no_recv && vsock_conn_peer_credit(c) > 0;
}

static bool has_work(const struct vsock_conn *c)
{
	return c->pending || can_send_data(c);
}

/* Arms the fd for what the connection can use now. */
static void update_watch(struct vsock *v, struct vsock_conn *c)
{
	uint32_t want = 0;
	if (c->state == VSOCK_CONN_HANDSHAKE)
		want = EPOLLIN;
	if (c->state == VSOCK_CONN_ESTABLISHED) {
		if (!c->readable && !c->host_eof && !c->guest_no_recv)
			want |= EPOLLIN;
		if (c->len > 0)
			want |= EPOLLOUT;
	}
	if (want != c->events && io_loop_mod(v->dev.io, c->fd, want) == 0)
		c->events = want;
}

/* Closes the host socket and frees the slot; owes the guest an RST when it
 * knows the connection. */
static void conn_close(struct vsock *v, struct vsock_conn *c, bool rst)
{
	if (rst && c->hashed)
		queue_rst(v, c->local_port, c->peer_port);
	rx_unlink(v, c);
	if (v->dev.io)
		io_loop_del(v->dev.io, c->fd);
	close(c->fd);
	vsock_conn_free(&v->conns, c);
}

/* Watches a new connection's fd (parked until update_watch). */
static int conn_watch(struct vsock *v, struct vsock_conn *c)
{
	if (io_loop_add(v->dev.io, c->fd, 0, on_conn, c, NULL) < 0)
		return -1;
	update_watch(v, c);
	return 0;
}

/* Ends a connection both sides are done with. Returns true when c is gone. */
static bool conn_finish(struct vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_CONN_ESTABLISHED)
		return false;
	if (c->guest_no_send && c->len == 0 && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (c->wr_shut && (c->host_eof || c->guest_no_recv) && c->pending == 0) {
		conn_close(v, c, true);
		return true;
	}
	return false;
}

/* After guest data moved to the host socket: owe a credit update if due. */
static void note_progress(struct vsock *v, struct vsock_conn *c)
{
	if (vsock_conn_credit_due(c)) {
		c->pending |= VSOCK_PEND_CREDIT;
		rx_mark(v, c);
	}
}

/* ---- the handshake deadline timer ---- */

static void arm_timer(struct vsock *v)
{
	uint64_t first = 0;
	for (struct vsock_conn *c = v->conns.all; c; c = c->next)
		if (c->state != VSOCK_CONN_ESTABLISHED && (!first || c->deadline_ms < first))
			first = c->deadline_ms;
	struct itimerspec its = { 0 };
	if (first) {
		its.it_value.tv_sec = (time_t)(first / 1000);
		its.it_value.tv_nsec = (long)(first % 1000) * 1000000;
	}
	timerfd_settime(v->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void expire(struct vsock *v)
{
	uint64_t now = now_ms();
	struct vsock_conn *c = v->conns.all;
	while (c) {
		struct vsock_conn *next = c->next;
		if (c->state != VSOCK_CONN_ESTABLISHED && c->deadline_ms <= now)
			conn_close(v, c, true);
		c = next;
	}
	arm_timer(v);
}

/* ---- host to guest ---- */

/* Takes a receive chain (kept until used). */
static bool get_chain(struct vsock *v, unsigned *budget)
{
	if (v->rx_held)
		return true;
	int r = virtio_dev_pop(&v->dev, RXQ, &v->rx_chain, budget);
	if (r < 0)
		virtio_dev_broken(&v->dev);
	if (r != 1)
		return false;
	if (v->rx_chain.write_len <= HDR_LEN) {
		virtq_set_broken(&v->dev.vqs[RXQ], "vsock receive buffer with no room past the header");
		virtio_dev_broken(&v->dev);
		return false;
	}
	v->rx_held = true;
	return true;
}

static void put_hdr(struct vsock *v, struct vsock_conn *c, uint32_t local, uint32_t peer,
		    uint16_t op, uint32_t flags, uint32_t len)
{
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(VSOCK_HOST_CID), .dst_cid = htole64(v->guest_cid),
		.src_port = htole32(local), .dst_port = htole32(peer), .len = htole32(len),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(op),
		.flags = htole32(flags),
	};
	if (c) {
		h.buf_alloc = htole32(VSOCK_CONN_BUF);
		h.fwd_cnt = htole32(c->fwd_cnt);
		c->fwd_told = c->fwd_cnt;
		c->pending &= ~VSOCK_PEND_CREDIT;
	}
	virtq_chain_write(&v->rx_chain, 0, &h, HDR_LEN);
}

/* Reads socket data into the chain as one RW packet. Returns the bytes
 * written to the chain, 0 when nothing was, -1 when c was closed. */
static int emit_data(struct vsock *v, struct vsock_conn *c)
{
	uint64_t room = v->rx_chain.write_len - HDR_LEN;
	uint32_t want = vsock_conn_peer_credit(c);
	if (want > VSOCK_MAX_PKT_LEN)
		want = VSOCK_MAX_PKT_LEN;
	if (want > room)
		want = (uint32_t)room;
	int n = virtq_chain_slice(&v->rx_chain, true, HDR_LEN, want, v->iov, VIRTQ_CHAIN_MAX);
	struct msghdr m = { .msg_iov = v->iov, .msg_iovlen = n > 0 ? (size_t)n : 0 };
	ssize_t got = n > 0 ? recvmsg(c->fd, &m, MSG_DONTWAIT) : -1;
	if (got > 0) {
		c->sent += (uint32_t)got;
		put_hdr(v, c, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RW, 0, (uint32_t)got);
		return (int)(HDR_LEN + got);
	}
	if (got == 0) {               /* the host side will send no more */
		c->host_eof = true;
		c->shut_sent |= VIRTIO_VSOCK_SHUTDOWN_SEND;
		c->pending |= VSOCK_PEND_SHUTDOWN;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		c->readable = false;
		update_watch(v, c);
		return 0;
	}
	conn_close(v, c, true);
	return -1;
}

/* Has c write its next packet into the held chain. Returns as emit_data. */
static int conn_emit(struct vsock *v, struct vsock_conn *c)
{
	uint16_t op = 0;
	uint32_t flags = 0;
	if (c->pending & VSOCK_PEND_REQUEST) {
		c->pending &= ~VSOCK_PEND_REQUEST;
		op = VIRTIO_VSOCK_OP_REQUEST;
	} else if (c->pending & VSOCK_PEND_RESPONSE) {
		c->pending &= ~VSOCK_PEND_RESPONSE;
		op = VIRTIO_VSOCK_OP_RESPONSE;
	} else if (can_send_data(c)) {
		return emit_data(v, c);
	} else if (c->pending & VSOCK_PEND_SHUTDOWN) {
		c->pending &= ~VSOCK_PEND_SHUTDOWN;
		op = VIRTIO_VSOCK_OP_SHUTDOWN;
		flags = c->shut_sent;
	} else if (c->pending & VSOCK_PEND_CREDIT) {
		op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	} else {
		return 0;
	}
	put_hdr(v, c, c->local_port, c->peer_port, op, flags, 0);
	return (int)HDR_LEN;
}

static int emit_rst(struct vsock *v)
{
	struct vsock_rst r = v->rst[v->rst_head];
	v->rst_head = (v->rst_head + 1) % VSOCK_RST_QUEUE;
	v->rst_len--;
	put_hdr(v, NULL, r.local, r.peer, VIRTIO_VSOCK_OP_RST, 0, 0);
	return (int)HDR_LEN;
}

/* One packet from the head of the rx list; the connection goes to the back
 * if it has more to say. Returns as emit_data. */
static int emit_next(struct vsock *v)
{
	struct vsock_conn *c = v->rx_head;
	rx_unlink(v, c);
	int n = conn_emit(v, c);
	if (n < 0)
		return 0;
	if (n > 0 && c->pending == 0 && conn_finish(v, c))
		return n;
	if (has_work(c))
		rx_mark(v, c);
	return n;
}

/* Fills receive chains while there is something to send. */
static void rx_pump(struct vsock *v)
{
	struct virtio_dev *d = &v->dev;
	struct virtq *q = &d->vqs[RXQ];
	unsigned budget = VIRTIO_DEV_BUDGET;
	bool pushed = false;

	if (!d->running || !q->ready || q->broken)
		return;
	while ((v->rst_len || v->rx_head) && get_chain(v, &budget)) {
		int n = v->rst_len ? emit_rst(v) : emit_next(v);
		if (n > 0) {
			virtq_push(q, v->rx_chain.head, (uint32_t)n);
			v->rx_held = false;
			pushed = true;
		}
	}
	if (pushed)
		virtio_dev_used(d, q);
}

/* ---- guest to host ---- */

/* Answers a bad packet: ends its connection if there is one, else owes an
 * RST (never in answer to an RST). */
static void reject(struct vsock *v, const struct pkt *p)
{
	struct vsock_conn *c = vsock_conn_find(&v->conns, p->dst_port, p->src_port);
	if (c)
		conn_close(v, c, true);
	else if (p->op != VIRTIO_VSOCK_OP_RST)
		queue_rst(v, p->dst_port, p->src_port);
}

/* The guest connects to CID 2 port dst_port: forward to <path>_<port>. */
static void on_request(struct vsock *v, const struct pkt *p)
{
	struct vsock_conn *c = vsock_conn_find(&v->conns, p->dst_port, p->src_port);
	if (c) {                      /* a second REQUEST for a live connection */
		conn_close(v, c, true);
		return;
	}
	int fd = v->conns.count < VSOCK_MAX_CONNS ? vsock_uds_connect_port(v->path, p->dst_port) : -1;
	c = fd >= 0 ? vsock_conn_new(&v->conns, fd, VSOCK_CONN_ESTABLISHED) : NULL;
	if (!c) {
		if (fd >= 0)
			close(fd);
		queue_rst(v, p->dst_port, p->src_port);
		return;
	}
	vsock_conn_hash(&v->conns, c, p->dst_port, p->src_port);
	vsock_conn_peer_update(c, p->buf_alloc, p->fwd_cnt);
	if (conn_watch(v, c) < 0) {
		conn_close(v, c, true);
		return;
	}
	c->pending |= VSOCK_PEND_RESPONSE;
	rx_mark(v, c);
}

/* The guest accepted a host client's CONNECT. */
static void on_response(struct vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_CONN_CONNECTING || vsock_uds_send_ok(c->fd, c->local_port) < 0) {
		conn_close(v, c, true);
		return;
	}
	c->state = VSOCK_CONN_ESTABLISHED;
	update_watch(v, c);
	arm_timer(v);
}

static void on_rw(struct vsock *v, struct vsock_conn *c, const struct pkt *p)
{
	if (c->state != VSOCK_CONN_ESTABLISHED || c->guest_no_send ||
	    !vsock_conn_recv_fits(c, p->len)) {
		conn_close(v, c, true);   /* data outside the protocol or the credit */
		return;
	}
	int n = virtq_chain_slice(&v->tx_chain, false, HDR_LEN, p->len, v->iov, VIRTQ_CHAIN_MAX);
	if (p->len > 0 && (n <= 0 || vsock_conn_recv(c, v->iov, n, p->len) < 0)) {
		conn_close(v, c, true);
		return;
	}
	note_progress(v, c);
	update_watch(v, c);
}

static void on_shutdown(struct vsock *v, struct vsock_conn *c, uint32_t flags)
{
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_no_recv = true;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->guest_no_send = true;
	if (c->state != VSOCK_CONN_ESTABLISHED) {
		conn_close(v, c, true);
		return;
	}
	if (!conn_finish(v, c))
		update_watch(v, c);
}

/* A packet for an existing connection (anything but REQUEST). */
static void on_conn_packet(struct vsock *v, struct vsock_conn *c, const struct pkt *p)
{
	if (p->op == VIRTIO_VSOCK_OP_RST) {
		conn_close(v, c, false);
		return;
	}
	vsock_conn_peer_update(c, p->buf_alloc, p->fwd_cnt);
	switch (p->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		on_response(v, c);
		return;
	case VIRTIO_VSOCK_OP_RW:
		on_rw(v, c, p);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		on_shutdown(v, c, p->flags);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= VSOCK_PEND_CREDIT;
		break;
	default:                      /* CREDIT_UPDATE: the new credit is taken above */
		break;
	}
	/* c may be gone (on_rw); the slot is then free and never on a list. */
	if (c->used && has_work(c))
		rx_mark(v, c);
}

static bool read_pkt(const struct virtq_chain *ch, struct pkt *p)
{
	struct virtio_vsock_hdr h;
	if (virtq_chain_read(ch, 0, &h, HDR_LEN) < 0)
		return false;
	*p = (struct pkt){
		.src_cid = le64toh(h.src_cid), .dst_cid = le64toh(h.dst_cid),
		.src_port = le32toh(h.src_port), .dst_port = le32toh(h.dst_port),
		.len = le32toh(h.len), .type = le16toh(h.type), .op = le16toh(h.op),
		.flags = le32toh(h.flags), .buf_alloc = le32toh(h.buf_alloc),
		.fwd_cnt = le32toh(h.fwd_cnt),
	};
	return true;
}

/* Validates and acts on one transmitted chain. */
static void tx_packet(struct vsock *v, const struct virtq_chain *ch)
{
	struct pkt p;
	if (!read_pkt(ch, &p) || p.src_cid != v->guest_cid || p.dst_cid != VSOCK_HOST_CID)
		return;               /* not addressed to us: dropped */
	bool known_op = p.op >= VIRTIO_VSOCK_OP_REQUEST && p.op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	bool len_ok = p.op == VIRTIO_VSOCK_OP_RW
			      ? p.len <= VSOCK_MAX_PKT_LEN && p.len <= ch->read_len - HDR_LEN
			      : p.len == 0;
	if (p.type != VIRTIO_VSOCK_TYPE_STREAM || !known_op || !len_ok) {
		reject(v, &p);
		return;
	}
	if (p.op == VIRTIO_VSOCK_OP_REQUEST) {
		on_request(v, &p);
		return;
	}
	struct vsock_conn *c = vsock_conn_find(&v->conns, p.dst_port, p.src_port);
	if (c)
		on_conn_packet(v, c, &p);
	else if (p.op != VIRTIO_VSOCK_OP_RST)
		queue_rst(v, p.dst_port, p.src_port);
}

static void tx_process(struct vsock *v)
{
	struct virtq *q = &v->dev.vqs[TXQ];
	unsigned budget = VIRTIO_DEV_BUDGET;
	bool pushed = false;
	while (virtio_dev_pop(&v->dev, TXQ, &v->tx_chain, &budget) == 1) {
		tx_packet(v, &v->tx_chain);
		virtq_push(q, v->tx_chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(&v->dev, q);
}

/* ---- I/O loop handlers ---- */

/* A host client's CONNECT line is complete: ask the guest. */
static void start_connect(struct vsock *v, struct vsock_conn *c, uint32_t port)
{
	uint32_t local = vsock_conn_pick_port(&v->conns, port);
	vsock_conn_hash(&v->conns, c, local, port);
	c->state = VSOCK_CONN_CONNECTING;
	c->deadline_ms = now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	c->peer_buf_alloc = c->peer_fwd_cnt = 0;
	c->pending |= VSOCK_PEND_REQUEST;
	update_watch(v, c);
	rx_mark(v, c);
	arm_timer(v);
}

static void conn_event(struct vsock *v, struct vsock_conn *c, uint32_t events)
{
	if (c->state == VSOCK_CONN_HANDSHAKE) {
		uint32_t port;
		int r = vsock_uds_read_connect(c->fd, c->line, &c->line_len, &port);
		if (r < 0)
			conn_close(v, c, false);
		else if (r > 0)
			start_connect(v, c, port);
		return;
	}
	if (c->state != VSOCK_CONN_ESTABLISHED)
		return;
	/* Events are hints (the slot may have been reused since they fired):
	 * act on what the socket calls return. */
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (c->events & EPOLLIN))
		c->readable = true;
	if (c->len > 0) {
		if (vsock_conn_flush(c) < 0) {
			conn_close(v, c, true);
			return;
		}
		note_progress(v, c);
		if (conn_finish(v, c))
			return;
	}
	update_watch(v, c);
	if (has_work(c))
		rx_mark(v, c);
}

static void on_conn(void *opaque, uint32_t events)
{
	struct vsock_conn *c = opaque;
	struct vsock *v = c->owner;
	pthread_mutex_lock(&v->dev.lock);
	if (c->used) {
		conn_event(v, c, events);
		rx_pump(v);
	}
	pthread_mutex_unlock(&v->dev.lock);
}

static void accept_one(struct vsock *v, int fd)
{
	struct vsock_conn *c = vsock_conn_new(&v->conns, fd, VSOCK_CONN_HANDSHAKE);
	if (!c) {
		close(fd);            /* at the connection limit */
		return;
	}
	c->deadline_ms = now_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	if (conn_watch(v, c) < 0)
		conn_close(v, c, false);
}

static void on_accept(void *opaque, uint32_t events)
{
	struct vsock *v = opaque;
	pthread_mutex_lock(&v->dev.lock);
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		accept_one(v, fd);
	}
	arm_timer(v);
	pthread_mutex_unlock(&v->dev.lock);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct vsock *v = opaque;
	uint64_t ticks;
	if (read(v->timer_fd, &ticks, sizeof(ticks)) < 0) {
		/* EAGAIN: a re-arm raced with the expiry; expire() checks the clock. */
	}
	pthread_mutex_lock(&v->dev.lock);
	expire(v);
	rx_pump(v);
	pthread_mutex_unlock(&v->dev.lock);
}

/* ---- device ops ---- */

/* Host connections are accepted again. */
static void end_reset_wait(struct vsock *v)
{
	v->reset_pending = false;
	io_loop_mod(v->dev.io, v->listen_fd, EPOLLIN);
}

static void vsock_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vsock *v = (struct vsock *)d;
	if (qi == TXQ)
		tx_process(v);
	if (qi == TXQ || qi == RXQ)
		rx_pump(v);
	/* EVQ: event buffers stay posted. A kick alone proves nothing (the
	 * transport kicks every ready queue once after a restore): the reset
	 * is handled once the guest has posted a buffer again. */
	if (qi == EVQ && v->reset_pending && virtq_avail_moved(&d->vqs[EVQ], v->reset_avail))
		end_reset_wait(v);
}

static void close_all(struct vsock *v)
{
	while (v->conns.all)
		conn_close(v, v->conns.all, false);
	v->rst_len = v->rst_head = 0;
	v->rx_held = false;
	if (v->timer_fd >= 0)
		arm_timer(v);
}

/* The driver reset the device: its connections are gone, so are ours. */
static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = (struct vsock *)d;
	close_all(v);
	if (v->reset_pending)
		end_reset_wait(v);   /* a driver starting afresh has nothing to reset */
}

static int vsock_attach(struct virtio_dev *d, struct arcvm_error *err)
{
	struct vsock *v = (struct vsock *)d;
	if (!d->io)
		return err_set(err, ARCVM_E_INVALID, "virtio-vsock needs an I/O loop");
	int rc = io_loop_add(d->io, v->listen_fd, EPOLLIN, on_accept, v, err);
	if (rc < 0)
		return rc;
	v->listen_watched = true;
	rc = io_loop_add(d->io, v->timer_fd, EPOLLIN, on_timer, v, err);
	if (rc < 0)
		return rc;
	v->timer_watched = true;
	return 0;
}

static void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *v = (struct vsock *)d;
	close_all(v);
	if (v->listen_watched)
		io_loop_del(d->io, v->listen_fd);
	if (v->timer_watched)
		io_loop_del(d->io, v->timer_fd);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	if (v->timer_fd >= 0)
		close(v->timer_fd);
	free(v->path);
	free(v);
}

/* ---- snapshots ---- */

#define TAG_VSCK SNAP_TAG('V', 'S', 'C', 'K')

/* Connections are not saved: their host sockets belong to the old process.
 * What is saved is a receive chain taken and not yet used, so the restored
 * device can hand it back. */
static void vsock_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct vsock *v = (struct vsock *)d;
	snap_begin(w, TAG_VSCK);
	snap_put_u8(w, v->rx_held);
	snap_put_u16(w, v->rx_held ? v->rx_chain.head : 0);
	snap_put_u32(w, v->conns.next_port);
	snap_end_section(w);
}

/* Tells the guest that every connection is gone, as Firecracker does after a
 * restore: VIRTIO_VSOCK_EVENT_TRANSPORT_RESET in a posted event buffer. */
static bool send_transport_reset(struct vsock *v)
{
	struct virtq_chain *c = &v->tx_chain;
	unsigned budget = 1;
	int r = virtio_dev_pop(&v->dev, EVQ, c, &budget);
	if (r != 1) {
		if (r < 0)
			virtio_dev_broken(&v->dev);
		return false;   /* no event buffer posted: nothing the guest can be told */
	}
	struct virtio_vsock_event ev = { .id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) };
	bool fits = virtq_chain_write(c, 0, &ev, sizeof(ev)) == 0;
	virtq_push(&v->dev.vqs[EVQ], c->head, fits ? sizeof(ev) : 0);
	virtio_dev_used(&v->dev, &v->dev.vqs[EVQ]);
	return fits;
}

static int vsock_load(struct virtio_dev *d, struct snap_reader *r, struct arcvm_error *err)
{
	struct vsock *v = (struct vsock *)d;
	struct snap_reader s;
	int rc = snap_section(r, TAG_VSCK, "virtio-vsock", &s, err);
	if (rc)
		return rc;
	bool held = snap_get_bool(&s);
	uint16_t head = snap_get_u16(&s);
	uint32_t next_port = snap_get_u32(&s);
	struct virtq *rxq = &d->vqs[RXQ];
	if ((held && (!rxq->ready || head >= rxq->size)) || next_port < VSOCK_HOST_PORT_MIN ||
	    next_port == UINT32_MAX)
		snap_reject(&s);
	if ((rc = snap_done(&s, "virtio-vsock", err)))
		return rc;
	/* Host-side ports carry on from where they were: the guest may still
	 * hold connections from before the snapshot until it handles the reset,
	 * and a new connection reusing one of their addresses would be taken
	 * for the old one and refused. */
	v->conns.next_port = next_port;
	if (!d->running)
		return 0;
	/* The held buffer goes back empty; the guest drops a packet shorter
	 * than a header and posts the buffer again. */
	if (held) {
		virtq_push(rxq, head, 0);
		virtio_dev_used(d, rxq);
	}
	if (d->vqs[EVQ].ready && send_transport_reset(v) && d->io) {
		v->reset_avail = virtq_watch_avail(&d->vqs[EVQ]);
		if (!virtq_avail_moved(&d->vqs[EVQ], v->reset_avail)) {
			v->reset_pending = true;
			io_loop_mod(d->io, v->listen_fd, 0);
		}
	}
	return 0;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.attach = vsock_attach,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.save = vsock_save,
	.load = vsock_load,
	.destroy = vsock_destroy,
};

int vsock_create(uint64_t guest_cid, const char *uds_path, struct virtio_dev **out,
		 struct arcvm_error *err)
{
	if (guest_cid < 3 || guest_cid >= UINT32_MAX)
		return err_set(err, ARCVM_E_INVALID, "vsock: guest CID %llu (3 to 2^32 - 2)",
			       (unsigned long long)guest_cid);
	if (!uds_path || !uds_path[0])
		return err_set(err, ARCVM_E_INVALID, "vsock: no socket path");
	struct vsock *v = calloc(1, sizeof(*v));
	if (!v || !(v->path = strdup(uds_path))) {
		free(v);
		return err_set(err, ARCVM_E_NOMEM, "virtio-vsock: out of memory");
	}
	v->listen_fd = -1;
	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int rc = v->timer_fd < 0 ? err_errno(err, ARCVM_E_IO, errno, "vsock: timerfd_create")
				 : vsock_uds_listen(uds_path, &v->listen_fd, err);
	if (rc < 0) {
		vsock_destroy(&v->dev);
		return rc;
	}
	vsock_conn_table_init(&v->conns, v);
	v->guest_cid = guest_cid;
	uint64_t le = htole64(guest_cid);
	memcpy(v->config, &le, sizeof(le));
	v->dev.ops = &vsock_ops;
	v->dev.device_id = VIRTIO_ID_VSOCK_DEV;
	v->dev.features = (1ull << VIRTQ_F_INDIRECT_DESC) | (1ull << VIRTQ_F_EVENT_IDX);
	v->dev.nqueues = 3;
	for (unsigned i = 0; i < 3; i++)
		v->dev.queue_max[i] = VSOCK_QUEUE_SIZE;
	v->dev.config = v->config;
	v->dev.config_len = sizeof(v->config);
	*out = &v->dev;
	return 0;
}

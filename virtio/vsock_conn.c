/*
 * vsock_conn.c - the connection table and credit accounting. See vsock_conn.h.
 */
#include "virtio/vsock_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arcvm.h"

void vsock_conn_table_init(struct vsock_conn_table *t, void *owner)
{
	memset(t, 0, sizeof(*t));
	t->next_port = VSOCK_HOST_PORT_MIN;
	for (int i = VSOCK_MAX_CONNS - 1; i >= 0; i--) {
		t->slot[i].owner = owner;
		t->slot[i].fd = -1;
		t->slot[i].next = t->free_list;
		t->free_list = &t->slot[i];
	}
}

static unsigned bucket_of(uint32_t local, uint32_t peer)
{
	uint32_t h = local * 0x9E3779B1u ^ peer * 0x85EBCA77u;
	return (h ^ (h >> 16)) % VSOCK_CONN_BUCKETS;
}

struct vsock_conn *vsock_conn_new(struct vsock_conn_table *t, int fd, enum vsock_conn_state st)
{
	struct vsock_conn *c = t->free_list;
	if (!c)
		return NULL;
	t->free_list = c->next;
	void *owner = c->owner;
	memset(c, 0, sizeof(*c));
	c->owner = owner;
	c->used = true;
	c->fd = fd;
	c->state = st;
	c->next = t->all;
	if (t->all)
		t->all->prev = c;
	t->all = c;
	t->count++;
	return c;
}

struct vsock_conn *vsock_conn_find(const struct vsock_conn_table *t, uint32_t local,
				   uint32_t peer)
{
	for (struct vsock_conn *c = t->bucket[bucket_of(local, peer)]; c; c = c->hnext)
		if (c->local_port == local && c->peer_port == peer)
			return c;
	return NULL;
}

int vsock_conn_hash(struct vsock_conn_table *t, struct vsock_conn *c, uint32_t local,
		    uint32_t peer)
{
	if (c->hashed || vsock_conn_find(t, local, peer))
		return -1;
	c->local_port = local;
	c->peer_port = peer;
	unsigned b = bucket_of(local, peer);
	c->hnext = t->bucket[b];
	t->bucket[b] = c;
	c->hashed = true;
	return 0;
}

/* At most VSOCK_MAX_CONNS ports are taken, so this ends within that many
 * steps past the first free one. */
uint32_t vsock_conn_pick_port(struct vsock_conn_table *t, uint32_t peer)
{
	for (;;) {
		uint32_t p = t->next_port;
		t->next_port = p == UINT32_MAX - 1 ? VSOCK_HOST_PORT_MIN : p + 1;
		if (!vsock_conn_find(t, p, peer))
			return p;
	}
}

void vsock_conn_free(struct vsock_conn_table *t, struct vsock_conn *c)
{
	if (c->hashed) {
		struct vsock_conn **pp = &t->bucket[bucket_of(c->local_port, c->peer_port)];
		while (*pp != c)
			pp = &(*pp)->hnext;
		*pp = c->hnext;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		t->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->count--;
	free(c->buf);
	c->buf = NULL;
	c->used = false;
	c->hashed = false;
	c->fd = -1;
	c->prev = NULL;
	c->next = t->free_list;
	t->free_list = c;
}

uint32_t vsock_conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->sent - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void vsock_conn_peer_update(struct vsock_conn *c, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
}

bool vsock_conn_recv_fits(const struct vsock_conn *c, uint32_t len)
{
	uint32_t held = c->recv_cnt - c->fwd_cnt;   /* <= VSOCK_CONN_BUF by induction */
	return len <= VSOCK_CONN_BUF - held;
}

/* One non-blocking send; returns bytes taken, 0 when fd is full, -1 on error. */
static ssize_t send_some(int fd, const struct iovec *iov, int niov)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)niov };
	for (;;) {
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Appends `len` bytes of iov starting `skip` bytes in to the ring. */
static void buffer_tail(struct vsock_conn *c, const struct iovec *iov, int niov, size_t skip,
			uint32_t len)
{
	for (int i = 0; i < niov && len > 0; i++) {
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		const uint8_t *p = (const uint8_t *)iov[i].iov_base + skip;
		size_t n = l - skip < len ? l - skip : len;
		skip = 0;
		for (size_t k = 0; k < n;) {
			uint32_t tail = (c->head + c->len) % VSOCK_CONN_BUF;
			size_t chunk = VSOCK_CONN_BUF - tail < n - k ? VSOCK_CONN_BUF - tail : n - k;
			memcpy(c->buf + tail, p + k, chunk);
			c->len += (uint32_t)chunk;
			k += chunk;
		}
		len -= (uint32_t)n;
	}
}

int vsock_conn_recv(struct vsock_conn *c, const struct iovec *iov, int niov, uint32_t len)
{
	ssize_t n = 0;
	c->recv_cnt += len;
	if (c->len == 0) {
		n = send_some(c->fd, iov, niov);
		if (n < 0)
			return ARCVM_E_IO;
		c->fwd_cnt += (uint32_t)n;
	}
	if ((uint32_t)n == len)
		return 0;
	if (!c->buf && !(c->buf = malloc(VSOCK_CONN_BUF)))
		return ARCVM_E_NOMEM;
	buffer_tail(c, iov, niov, (size_t)n, len - (uint32_t)n);
	return vsock_conn_flush(c);
}

int vsock_conn_flush(struct vsock_conn *c)
{
	while (c->len > 0) {
		struct iovec v[2];
		int nv = 1;
		uint32_t first = VSOCK_CONN_BUF - c->head < c->len ? VSOCK_CONN_BUF - c->head : c->len;
		v[0] = (struct iovec){ c->buf + c->head, first };
		if (first < c->len) {
			v[1] = (struct iovec){ c->buf, c->len - first };
			nv = 2;
		}
		ssize_t n = send_some(c->fd, v, nv);
		if (n < 0)
			return ARCVM_E_IO;
		if (n == 0)
			return 0;
		c->head = (c->head + (uint32_t)n) % VSOCK_CONN_BUF;
		c->len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	c->head = 0;
	return 0;
}

bool vsock_conn_credit_due(const struct vsock_conn *c)
{
	return c->fwd_cnt - c->fwd_told >= VSOCK_CREDIT_THRESH;
}

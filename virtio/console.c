/*
 * console.c - virtio-console device (virtio 1.x, section 5.3), one port, no
 * multiport: queue 0 receives (host to guest), queue 1 transmits.
 *
 * Host input is read as soon as in_fd is readable into a small ring buffer,
 * then copied into whatever receive buffers the guest has posted. While the
 * ring buffer is full the fd is parked (kept on the loop with no events), so
 * a guest that posts no buffers costs nothing; posting buffers (a kick on
 * queue 0) drains the ring buffer and unparks the fd.
 *
 * Thread ownership: everything below is used by the I/O thread under the
 * device lock (queue_notify and on_input both hold it); attach and destroy
 * run before the I/O thread starts and after it stopped.
 */
#include "virtio/console.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/err.h"
#include "util/snapbuf.h"

#define RXQ 0
#define TXQ 1

struct vcon {
	struct virtio_dev dev;          /* first: the transport sees this */
	int in_fd, out_fd;
	bool registered;                /* in_fd is on the I/O loop */
	bool watching;                  /* ... and waiting for EPOLLIN (not parked) */
	bool in_eof;                    /* in_fd ended or failed: never watched again */
	bool guest_spoke;               /* the guest has transmitted: its port is set up */
	uint8_t buf[VCON_INPUT_BUF];    /* pending input, a ring: `len` bytes from `head` */
	size_t head, len;
	struct virtq_chain chain;       /* I/O thread scratch */
};

static void on_input(void *opaque, uint32_t events);

/* Watches in_fd for input again if there is room for it. */
static void resume_input(struct vcon *c)
{
	if (c->in_fd < 0 || !c->dev.io || c->in_eof || c->len == sizeof(c->buf) || c->watching)
		return;
	if (!c->registered) {
		if (io_loop_add(c->dev.io, c->in_fd, EPOLLIN, on_input, c, NULL) == 0)
			c->registered = c->watching = true;
	} else if (io_loop_mod(c->dev.io, c->in_fd, EPOLLIN) == 0) {
		c->watching = true;
	}
}

static void park_input(struct vcon *c)
{
	if (c->registered && c->watching && io_loop_mod(c->dev.io, c->in_fd, 0) == 0)
		c->watching = false;
}

static void forget_input(struct vcon *c)
{
	if (c->registered)
		io_loop_del(c->dev.io, c->in_fd);
	c->registered = c->watching = false;
}

/* Copies pending input into posted receive buffers. */
static void deliver(struct vcon *c)
{
	struct virtio_dev *d = &c->dev;
	struct virtq *q = &d->vqs[RXQ];
	bool pushed = false;

	/* Linux's driver drops input that arrives before the port is set up,
	 * and a single-port device gets no PORT_OPEN to say when that is: the
	 * guest's first output is the sign. Input waits in buf until then. */
	if (!d->running || !q->ready || !c->guest_spoke)
		return;
	while (c->len > 0) {
		int r = virtq_pop(q, &c->chain);
		if (r < 0)
			virtio_dev_broken(d);
		if (r != 1)
			break;
		size_t n = c->chain.write_len < c->len ? (size_t)c->chain.write_len : c->len;
		size_t first = sizeof(c->buf) - c->head < n ? sizeof(c->buf) - c->head : n;
		virtq_chain_write(&c->chain, 0, c->buf + c->head, first);
		virtq_chain_write(&c->chain, first, c->buf, n - first);
		c->head = (c->head + n) % sizeof(c->buf);
		c->len -= n;
		virtq_push(q, c->chain.head, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		virtio_dev_used(d, q);
}

/* Reads what fits into the ring buffer. */
static void read_input(struct vcon *c)
{
	size_t tail = (c->head + c->len) % sizeof(c->buf);
	size_t room = sizeof(c->buf) - c->len;
	size_t chunk = sizeof(c->buf) - tail < room ? sizeof(c->buf) - tail : room;
	ssize_t n = read(c->in_fd, c->buf + tail, chunk);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		c->in_eof = true;
}

static void on_input(void *opaque, uint32_t events)
{
	struct vcon *c = opaque;
	pthread_mutex_lock(&c->dev.lock);
	if (c->len < sizeof(c->buf))
		read_input(c);
	if (c->in_eof) {
		forget_input(c);
	} else if (c->len == sizeof(c->buf)) {
		/* A parked fd still reports hang-up: drop it from the loop and
		 * add it back once there is room again. */
		if (events & (EPOLLHUP | EPOLLERR))
			forget_input(c);
		else
			park_input(c);
	}
	deliver(c);
	resume_input(c);
	pthread_mutex_unlock(&c->dev.lock);
}

/* Writes all of buf to fd, waiting while a non-blocking fd is full. */
static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, -1);
		} else if (!(n < 0 && errno == EINTR)) {
			return;   /* the reader is gone: guest output is dropped */
		}
	}
}

static void transmit(struct vcon *c)
{
	struct virtq *q = &c->dev.vqs[TXQ];
	bool pushed = false;
	unsigned budget = VIRTIO_DEV_BUDGET;

	while (virtio_dev_pop(&c->dev, TXQ, &c->chain, &budget) == 1) {
		for (unsigned i = 0; i < c->chain.nread && c->out_fd >= 0; i++)
			write_all(c->out_fd, c->chain.iov[i].iov_base, c->chain.iov[i].iov_len);
		virtq_push(q, c->chain.head, 0);
		pushed = true;
	}
	if (pushed) {
		virtio_dev_used(&c->dev, q);
		if (!c->guest_spoke) {
			c->guest_spoke = true;
			deliver(c);
			resume_input(c);
		}
	}
}

static void vcon_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct vcon *c = (struct vcon *)d;
	if (qi == TXQ) {
		transmit(c);
		return;
	}
	deliver(c);
	resume_input(c);
}

/* Starts watching the input fd, so input typed before the guest's driver is
 * up is kept (up to VCON_INPUT_BUF bytes). An fd epoll cannot watch (a
 * regular file) is refused here rather than silently ignored. */
static int vcon_attach(struct virtio_dev *d, struct arcvm_error *err)
{
	struct vcon *c = (struct vcon *)d;
	if (c->in_fd < 0 || !d->io)
		return 0;
	int rc = io_loop_add(d->io, c->in_fd, EPOLLIN, on_input, c, err);
	if (rc < 0)
		return rc;
	c->registered = c->watching = true;
	return 0;
}

static void vcon_destroy(struct virtio_dev *d)
{
	forget_input((struct vcon *)d);
	free(d);
}

#define TAG_VCON SNAP_TAG('V', 'C', 'O', 'N')

/* Host input not yet given to the guest belongs to the old process's
 * terminal and is dropped; whether the guest has spoken (so input may flow
 * at once) carries over. */
static void vcon_save(struct virtio_dev *d, struct snap_writer *w)
{
	snap_begin(w, TAG_VCON);
	snap_put_u8(w, ((struct vcon *)d)->guest_spoke);
	snap_end_section(w);
}

static int vcon_load(struct virtio_dev *d, struct snap_reader *r, struct arcvm_error *err)
{
	struct snap_reader s;
	int rc = snap_section(r, TAG_VCON, "virtio-console", &s, err);
	if (rc)
		return rc;
	((struct vcon *)d)->guest_spoke = snap_get_bool(&s);
	return snap_done(&s, "virtio-console", err);
}

static const struct virtio_dev_ops vcon_ops = {
	.name = "virtio-console",
	.attach = vcon_attach,
	.save = vcon_save,
	.load = vcon_load,
	.queue_notify = vcon_queue_notify,
	.destroy = vcon_destroy,
};

int vcon_create(int in_fd, int out_fd, struct virtio_dev **out, struct arcvm_error *err)
{
	struct vcon *c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(err, ARCVM_E_NOMEM, "virtio-console: out of memory");
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->dev.ops = &vcon_ops;
	c->dev.device_id = VIRTIO_ID_CONSOLE;
	c->dev.features = (1ull << VIRTQ_F_INDIRECT_DESC) | (1ull << VIRTQ_F_EVENT_IDX);
	c->dev.nqueues = 2;
	c->dev.queue_max[RXQ] = VCON_QUEUE_SIZE;
	c->dev.queue_max[TXQ] = VCON_QUEUE_SIZE;
	*out = &c->dev;
	return 0;
}

/*
 * net_slirp.c - user-mode NAT for virtio-net through libslirp: the guest
 * lives in 10.0.2.0/24 (10.0.2.15 by DHCP, gateway 10.0.2.2, which is also
 * the host's loopback, DNS forwarded at 10.0.2.3); host ports are forwarded
 * with slirp_add_hostfwd. No root and no host setup.
 *
 * Event loop: libslirp wants a poll() loop (fill a pollfd set, poll, hand
 * back the revents) plus timers. Here the set lives in an epoll instance of
 * its own (`epfd`), itself watched by the VM's I/O loop, and the timers are
 * one timerfd armed for the earliest of them and slirp's own poll timeout.
 * After every call into slirp the epoll set is brought in line with what
 * slirp asks for now (`sync`), so it never waits on a stale fd.
 *
 * Receive back-pressure: frames slirp sends while the guest has no room wait
 * in `held` (a bounded ring). Once HELD_PAUSE frames wait, slirp's sockets
 * are not polled at all (the epoll fd is parked): a guest that posts no
 * receive buffers makes the host stop reading, and costs no CPU. The ring
 * holds far more than that, because slirp also makes frames without reading
 * a socket (the guest's ACKs open the TCP window and slirp sends what it
 * already buffered); dropping those would cost TCP retransmissions. Only a
 * full ring drops. A receive-queue kick drains the ring and resumes polling.
 *
 * Thread ownership: every call into slirp, and all state here, is made under
 * the device lock (vnet_lock): from queue_notify / start on the I/O or vCPU
 * thread, and from the two fd handlers, which take the lock.
 */
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "virtio/net.h"

#define HELD_MAX   1024             /* frames kept while the guest has no room */
#define HELD_PAUSE 64               /* ... from this many on, sockets are not read */

struct slirp_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;              /* -1: not armed */
	struct slirp_timer *next;
};

struct held_frame {
	size_t len;
	uint8_t data[];
};

struct vnet_slirp {
	struct vnet_backend be;         /* first */
	Slirp *slirp;
	int epfd;                       /* slirp's sockets */
	int timerfd;
	bool epfd_watched, timerfd_watched;
	bool polling;                   /* epfd is not parked */

	/* The pollfd set slirp asked for last, and what epfd holds. */
	struct pollfd *pfds;
	int npfds, cap_pfds;
	uint32_t *reg;                  /* epoll events registered per fd, 0: none */
	int cap_reg;
	uint32_t poll_timeout_ms;
	int64_t armed_ms;               /* when the timerfd fires, 0: disarmed */

	struct slirp_timer *timers;
	struct held_frame **held;       /* ring of HELD_MAX, malloc'd frames */
	unsigned held_head, held_len;
	uint8_t txbuf[VNET_FRAME_MAX];  /* a frame made contiguous for slirp_input */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- libslirp callbacks --- */

static void sync_poll(struct vnet_slirp *s);

static bool held_push(struct vnet_slirp *s, const void *buf, size_t len)
{
	if (s->held_len == HELD_MAX)
		return false;
	struct held_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return false;
	memcpy(f->data, buf, len);
	f->len = len;
	s->held[(s->held_head + s->held_len) % HELD_MAX] = f;
	s->held_len++;
	return true;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct vnet_slirp *s = opaque;
	/* Order: frames already waiting go first. */
	if (s->held_len == 0) {
		int r = vnet_rx_deliver(s->be.net, 0, NULL, buf, len);
		if (r != 0)
			return (ssize_t)len;
	}
	if (!held_push(s, buf, len))
		vnet_count_rx_drop(s->be.net);   /* as a full NIC would; TCP resends */
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct vnet_slirp *s = opaque;
	vnet_log(s->be.net, ARCVM_LOG_DEBUG, "slirp: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct vnet_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct slirp_timer){ .cb = cb, .cb_opaque = cb_opaque, .expire_ms = -1,
				   .next = s->timers };
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct vnet_slirp *s = opaque;
	for (struct slirp_timer **pp = &s->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

/* Slirp announces new and closed sockets here; sync_poll learns the same
 * from the next slirp_pollfds_fill, so these have nothing to add. */
static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

/* Slirp has queued data for a socket: the resync after the current call
 * into slirp picks up the POLLOUT it now wants. */
static void cb_notify(void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* --- the poll set --- */

static int add_poll(int fd, int events, void *opaque)
{
	struct vnet_slirp *s = opaque;
	if (s->npfds == s->cap_pfds) {
		int cap = s->cap_pfds ? 2 * s->cap_pfds : 64;
		struct pollfd *p = realloc(s->pfds, (size_t)cap * sizeof(*p));
		if (!p)
			return -1;
		s->pfds = p;
		s->cap_pfds = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->pfds[s->npfds] = (struct pollfd){ .fd = fd, .events = ev };
	return s->npfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct vnet_slirp *s = opaque;
	if (idx < 0 || idx >= s->npfds)
		return 0;
	short r = s->pfds[idx].revents;
	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static bool reg_room(struct vnet_slirp *s, int fd)
{
	if (fd < s->cap_reg)
		return true;
	int cap = s->cap_reg ? s->cap_reg : 256;
	while (cap <= fd)
		cap *= 2;
	uint32_t *r = realloc(s->reg, (size_t)cap * sizeof(*r));
	if (!r)
		return false;
	memset(r + s->cap_reg, 0, (size_t)(cap - s->cap_reg) * sizeof(*r));
	s->reg = r;
	s->cap_reg = cap;
	return true;
}

#define REG_ON   0x40000000u        /* the fd is in epfd */
#define REG_SEEN 0x80000000u        /* slirp asked for it this round */
#define REG_EVENTS 0xffffu

/* epoll_ctl that copes with fd numbers slirp closed and reused in between
 * (a closed fd leaves the epoll set by itself). */
static void ep_set(int epfd, int fd, uint32_t events, bool known)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (known && epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno == EEXIST)
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Makes epfd watch exactly the fds of the new pollfd set. */
static void sync_epoll(struct vnet_slirp *s)
{
	for (int i = 0; i < s->npfds; i++) {
		int fd = s->pfds[i].fd;
		if (fd < 0 || !reg_room(s, fd))
			continue;
		uint32_t cur = s->reg[fd];
		uint32_t want = (uint16_t)s->pfds[i].events;
		if (cur & REG_SEEN)
			want |= cur & REG_EVENTS;   /* the same fd twice */
		if (!(cur & REG_ON) || (cur & REG_EVENTS) != want)
			ep_set(s->epfd, fd, want, cur & REG_ON);
		s->reg[fd] = want | REG_ON | REG_SEEN;
	}
	for (int fd = 0; fd < s->cap_reg; fd++) {
		if (!(s->reg[fd] & REG_ON))
			continue;
		if (s->reg[fd] & REG_SEEN) {
			s->reg[fd] &= ~REG_SEEN;
		} else {
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
			s->reg[fd] = 0;
		}
	}
}

/* Arms the timerfd for the earliest slirp timer or poll timeout. */
static void arm_timer(struct vnet_slirp *s)
{
	int64_t now = now_ms(), next = now + s->poll_timeout_ms;
	for (struct slirp_timer *t = s->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms < next)
			next = t->expire_ms;
	/* Firing earlier than needed is harmless (the handler re-arms), so
	 * the syscall is skipped while the armed time is still ahead and no
	 * later than the new deadline. */
	if (s->armed_ms > now && s->armed_ms <= next)
		return;
	int64_t in = next - now < 1 ? 1 : next - now;
	s->armed_ms = now + in;
	struct itimerspec its = { .it_value = { .tv_sec = in / 1000, .tv_nsec = (in % 1000) * 1000000 } };
	timerfd_settime(s->timerfd, 0, &its, NULL);
}

static void sync_poll(struct vnet_slirp *s)
{
	s->npfds = 0;
	s->poll_timeout_ms = 1000;
	slirp_pollfds_fill(s->slirp, &s->poll_timeout_ms, add_poll, s);
	sync_epoll(s);
	arm_timer(s);
}

static void run_timers(struct vnet_slirp *s)
{
	int64_t now = now_ms();
	bool again = true;
	/* A callback may free or re-arm timers: restart the walk after each. */
	while (again) {
		again = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				again = true;
				break;
			}
		}
	}
}

/* Frames held for the guest go first; returns true when none is left. */
static bool drain_held(struct vnet_slirp *s)
{
	while (s->held_len) {
		struct held_frame *f = s->held[s->held_head];
		if (vnet_rx_deliver(s->be.net, 0, NULL, f->data, f->len) == 0)
			break;
		free(f);
		s->held_head = (s->held_head + 1) % HELD_MAX;
		s->held_len--;
	}
	vnet_rx_flush(s->be.net, 0);
	return s->held_len == 0;
}

/* Polls slirp's sockets only while there is room for what they bring. */
static void update_polling(struct vnet_slirp *s)
{
	bool want = s->held_len < HELD_PAUSE;
	if (want == s->polling || !s->epfd_watched)
		return;
	if (io_loop_mod(vnet_io(s->be.net), s->epfd, want ? EPOLLIN : 0) == 0)
		s->polling = want;
}

/* After every entry into slirp: deliver, resync, throttle. */
static void settle(struct vnet_slirp *s)
{
	drain_held(s);
	sync_poll(s);
	update_polling(s);
}

static void on_sockets(void *opaque, uint32_t events)
{
	struct vnet_slirp *s = opaque;
	pthread_mutex_lock(vnet_lock(s->be.net));
	for (int i = 0; i < s->npfds; i++)
		s->pfds[i].revents = 0;
	int n = poll(s->pfds, (nfds_t)s->npfds, 0);
	slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
	settle(s);
	pthread_mutex_unlock(vnet_lock(s->be.net));
}

static void on_timer(void *opaque, uint32_t events)
{
	struct vnet_slirp *s = opaque;
	uint64_t ticks;
	pthread_mutex_lock(vnet_lock(s->be.net));
	if (read(s->timerfd, &ticks, sizeof(ticks)) < 0) {
		/* EAGAIN: re-armed by another handler since it fired. */
	}
	s->armed_ms = 0;
	run_timers(s);
	/* The poll timeout also drives slirp's own housekeeping (TCP timers). */
	for (int i = 0; i < s->npfds; i++)
		s->pfds[i].revents = 0;
	int n = poll(s->pfds, (nfds_t)s->npfds, 0);
	slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
	settle(s);
	pthread_mutex_unlock(vnet_lock(s->be.net));
}

/* --- backend ops --- */

static int slirp_send(struct vnet_backend *b, unsigned qp, const struct iovec *iov, int niov,
		      size_t len)
{
	struct vnet_slirp *s = (struct vnet_slirp *)b;
	size_t off = 0;
	/* iov[0] is the vnet header, which asks for nothing here (no offloads). */
	for (int i = 1; i < niov; i++) {
		if (off + iov[i].iov_len > sizeof(s->txbuf))
			return -1;
		memcpy(s->txbuf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	slirp_input(s->slirp, s->txbuf, (int)off);
	return 0;
}

/* Once per batch of guest frames rather than per frame: the resync costs
 * a walk of slirp's sockets and a timerfd update. */
static void slirp_tx_done(struct vnet_backend *b)
{
	settle((struct vnet_slirp *)b);
}

static void slirp_rx_resume(struct vnet_backend *b, unsigned qp)
{
	struct vnet_slirp *s = (struct vnet_slirp *)b;
	drain_held(s);
	update_polling(s);
}

static int slirp_attach(struct vnet_backend *b, struct arcvm_error *err)
{
	struct vnet_slirp *s = (struct vnet_slirp *)b;
	struct io_loop *io = vnet_io(b->net);
	if (!io)
		return 0;
	int rc = io_loop_add(io, s->epfd, EPOLLIN, on_sockets, s, err);
	if (rc)
		return rc;
	s->epfd_watched = s->polling = true;
	rc = io_loop_add(io, s->timerfd, EPOLLIN, on_timer, s, err);
	if (rc)
		return rc;
	s->timerfd_watched = true;
	sync_poll(s);
	return 0;
}

static void slirp_destroy(struct vnet_backend *b)
{
	struct vnet_slirp *s = (struct vnet_slirp *)b;
	struct io_loop *io = vnet_io(b->net);
	if (s->epfd_watched)
		io_loop_del(io, s->epfd);
	if (s->timerfd_watched)
		io_loop_del(io, s->timerfd);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	free(s->pfds);
	free(s->reg);
	for (; s->held && s->held_len; s->held_len--, s->held_head = (s->held_head + 1) % HELD_MAX)
		free(s->held[s->held_head]);
	free(s->held);
	free(s);
}

static const struct vnet_backend_ops slirp_ops = {
	.name = "user",
	.send = slirp_send,
	.tx_done = slirp_tx_done,
	.rx_resume = slirp_rx_resume,
	.attach = slirp_attach,
	.destroy = slirp_destroy,
};

static int add_forwards(struct vnet_slirp *s, const struct arcvm_net *cfg, struct arcvm_error *err)
{
	struct in_addr guest;
	inet_pton(AF_INET, VNET_SLIRP_GUEST, &guest);
	for (int i = 0; i < cfg->nforwards; i++) {
		const struct arcvm_port_forward *f = &cfg->forwards[i];
		struct in_addr host = { .s_addr = htonl(f->host_addr) };
		if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port) < 0) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &host, a, sizeof(a));
			return err_set(err, ARCVM_E_IO, "virtio-net: cannot forward %s %s:%u to the "
				       "guest (is the port in use?)", f->udp ? "udp" : "tcp", a,
				       f->host_port);
		}
	}
	return 0;
}

static int new_slirp(struct vnet_slirp *s, struct arcvm_error *err)
{
	SlirpConfig c;
	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.in_enabled = true;
	inet_pton(AF_INET, VNET_SLIRP_NET, &c.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &c.vnetmask);
	inet_pton(AF_INET, VNET_SLIRP_HOST, &c.vhost);
	inet_pton(AF_INET, VNET_SLIRP_GUEST, &c.vdhcp_start);
	inet_pton(AF_INET, VNET_SLIRP_DNS, &c.vnameserver);
	c.vhostname = "arcvm";
	s->slirp = slirp_new(&c, &slirp_callbacks, s);
	if (!s->slirp)
		return err_set(err, ARCVM_E_NOMEM, "virtio-net: libslirp could not start");
	return 0;
}

int vnet_slirp_create(struct vnet *n, const struct arcvm_net *cfg, struct vnet_backend **out,
		      struct arcvm_error *err)
{
	struct vnet_slirp *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ARCVM_E_NOMEM, "virtio-net: out of memory");
	s->be = (struct vnet_backend){ .ops = &slirp_ops, .net = n, .pairs = 1 };
	s->timerfd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s->held = calloc(HELD_MAX, sizeof(*s->held));
	int rc;
	if (s->epfd < 0 || s->timerfd < 0)
		rc = err_errno(err, ARCVM_E_IO, errno, "virtio-net: epoll or timerfd for slirp");
	else if (!s->held)
		rc = err_set(err, ARCVM_E_NOMEM, "virtio-net: out of memory");
	else
		rc = new_slirp(s, err);
	if (!rc)
		rc = add_forwards(s, cfg, err);
	if (rc) {
		slirp_destroy(&s->be);
		return rc;
	}
	*out = &s->be;
	return 0;
}

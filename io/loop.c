/*
 * loop.c - the per-VM I/O thread: an epoll loop that calls device handlers.
 *
 * Handler records are owned by the loop. io_loop_del marks a record dead
 * (it is skipped) and the I/O thread frees it after the epoll batch in
 * progress, so an event already returned by epoll_wait never points at
 * freed memory even if io_loop_del ran on another thread in between.
 */
#include "io/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/err.h"

/* Device handlers keep their buffers small (and the 9p server its own
 * heap buffers), so 512 KiB of stack is plenty and cheap to set up. */
#define IO_STACK_SIZE (512u << 10)

struct io_watch {
	int fd;
	io_handler_fn fn;
	void *opaque;
	bool dead;
	bool parked;    /* out of the epoll set: epoll reports HUP even for no events */
	struct io_watch *next;
};

struct io_loop {
	int epfd;
	int stopfd;             /* eventfd: written by io_loop_stop */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;   /* guards the watch list */
	struct io_watch *watches;
};

int io_loop_create(struct io_loop **out, struct arcvm_error *err)
{
	struct io_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the I/O loop");
	pthread_mutex_init(&l->lock, NULL);
	l->stopfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		err_errno(err, ARCVM_E_IO, errno, "epoll_create1 failed");
		goto fail;
	}
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stopfd < 0) {
		err_errno(err, ARCVM_E_IO, errno, "eventfd failed");
		goto fail;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev) < 0) {
		err_errno(err, ARCVM_E_IO, errno, "epoll_ctl failed");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	io_loop_destroy(l);
	return err ? err->code : ARCVM_E_IO;
}

int io_loop_add(struct io_loop *l, int fd, uint32_t events, io_handler_fn fn, void *opaque,
		struct arcvm_error *err)
{
	struct io_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for an I/O watch");
	*w = (struct io_watch){ .fd = fd, .fn = fn, .opaque = opaque };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	w->parked = events == 0;
	pthread_mutex_lock(&l->lock);
	if (!w->parked && epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		pthread_mutex_unlock(&l->lock);
		free(w);
		return err_errno(err, ARCVM_E_IO, e, "cannot watch fd %d", fd);
	}
	w->next = l->watches;
	l->watches = w;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int io_loop_del(struct io_loop *l, int fd)
{
	int rc = -1;
	pthread_mutex_lock(&l->lock);
	for (struct io_watch *w = l->watches; w; w = w->next) {
		if (w->fd == fd && !w->dead) {
			if (!w->parked)
				epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			w->dead = true;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

int io_loop_mod(struct io_loop *l, int fd, uint32_t events)
{
	int rc = -1;
	pthread_mutex_lock(&l->lock);
	for (struct io_watch *w = l->watches; w; w = w->next) {
		if (w->fd == fd && !w->dead) {
			struct epoll_event ev = { .events = events, .data.ptr = w };
			if (events == 0)
				rc = w->parked ? 0 : epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			else
				rc = epoll_ctl(l->epfd, w->parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
			if (rc == 0)
				w->parked = events == 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Frees deleted watches. Called on the I/O thread between epoll batches:
 * a deleted fd has left the epoll set, so no later batch can name it, and
 * the batch that might have is done. */
static void io_loop_reap(struct io_loop *l)
{
	pthread_mutex_lock(&l->lock);
	struct io_watch **pp = &l->watches;
	while (*pp) {
		struct io_watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

static void *io_loop_thread(void *arg)
{
	struct io_loop *l = arg;
	struct epoll_event evs[32];
	for (;;) {
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			struct io_watch *w = evs[i].data.ptr;
			if (!w)
				return NULL;  /* the stop eventfd */
			pthread_mutex_lock(&l->lock);
			bool dead = w->dead;
			pthread_mutex_unlock(&l->lock);
			if (!dead)
				w->fn(w->opaque, evs[i].events);
		}
		io_loop_reap(l);
	}
	return NULL;
}

int io_loop_start(struct io_loop *l, struct arcvm_error *err)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, IO_STACK_SIZE);
	int rc = pthread_create(&l->thread, &attr, io_loop_thread, l);
	pthread_attr_destroy(&attr);
	if (rc)
		return err_errno(err, ARCVM_E_IO, rc, "cannot start the I/O thread");
	pthread_setname_np(l->thread, "arcvm-io");
	l->running = true;
	return 0;
}

void io_loop_stop(struct io_loop *l)
{
	if (!l->running)
		return;
	uint64_t one = 1;
	if (write(l->stopfd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on counter overflow: it is signalled already. */
	}
	pthread_join(l->thread, NULL);
	l->running = false;
	/* Drained so that io_loop_start can run the loop again (a snapshot
	 * stops the I/O thread while it copies device state and memory). */
	uint64_t v;
	if (read(l->stopfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain. */
	}
}

void io_loop_destroy(struct io_loop *l)
{
	if (!l)
		return;
	io_loop_stop(l);
	while (l->watches) {
		struct io_watch *w = l->watches;
		l->watches = w->next;
		free(w);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

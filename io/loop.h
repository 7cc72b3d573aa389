/*
 * loop.h - the I/O thread: one epoll loop per VM that runs device work
 * (queue kicks from ioeventfds, console input, backend completions).
 *
 * Handlers run on the I/O thread only. io_loop_add/del may be called from
 * any thread.
 */
#ifndef IO_LOOP_H
#define IO_LOOP_H

#include <stdint.h>

#include "arcvm.h"

struct io_loop;

/* Called on the I/O thread with the epoll events that fired. */
typedef void (*io_handler_fn)(void *opaque, uint32_t events);

int io_loop_create(struct io_loop **out, struct arcvm_error *err);
/* Watches fd for `events` (EPOLLIN...); 0 registers it parked. The handler
 * stays registered until io_loop_del. */
int io_loop_add(struct io_loop *loop, int fd, uint32_t events, io_handler_fn fn, void *opaque,
		struct arcvm_error *err);
int io_loop_del(struct io_loop *loop, int fd);
/* Changes the events a watched fd waits for; 0 parks it without forgetting
 * its handler (how a device stops reading input it has no room for). */
int io_loop_mod(struct io_loop *loop, int fd, uint32_t events);
/* Starts the thread. */
int io_loop_start(struct io_loop *loop, struct arcvm_error *err);
/* Stops and joins the thread; handlers are not called after it returns.
 * io_loop_start may start it again; the watches stay as they are. */
void io_loop_stop(struct io_loop *loop);
/* Stops if needed and frees. NULL is a no-op. */
void io_loop_destroy(struct io_loop *loop);

#endif

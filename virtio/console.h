/*
 * console.h - virtio-console with a single port (hvc0 in a Linux guest).
 */
#ifndef VIRTIO_CONSOLE_H
#define VIRTIO_CONSOLE_H

#include "arcvm.h"
#include "virtio/device.h"

#define VCON_QUEUE_SIZE 128
#define VCON_INPUT_BUF  4096   /* host input held while the guest posts no buffers */

/*
 * Creates the device. Guest output is written to out_fd; bytes read from
 * in_fd on the I/O thread are given to the guest. Either may be -1. The fds
 * stay the caller's: they are not closed by destroy, and must outlive the
 * device. in_fd is watched only when the transport has an I/O loop, and must
 * then be something epoll can watch (a pipe, tty or socket, not a regular
 * file): attaching fails otherwise. Fails only with ARCVM_E_NOMEM.
 */
int vcon_create(int in_fd, int out_fd, struct virtio_dev **out, struct arcvm_error *err);

#endif

/*
 * vsock.h - virtio-vsock (virtio 1.2, section 5.10) implemented in the VMM,
 * stream sockets only, with Firecracker's host-side convention: the guest's
 * vsock is a listening Unix socket on the host (docs/vsock.md).
 */
#ifndef VIRTIO_VSOCK_H
#define VIRTIO_VSOCK_H

#include <stdint.h>

#include "arcvm.h"
#include "virtio/device.h"

#define VSOCK_HOST_CID          2
#define VSOCK_QUEUE_SIZE        256
#define VSOCK_CONNECT_TIMEOUT_MS 2000  /* CONNECT line plus the guest's answer */
#define VSOCK_MAX_PKT_LEN       (64u << 10)  /* payload of one guest packet */
#define VSOCK_RST_QUEUE         512    /* resets owed for unknown connections */

/*
 * Creates the device for a guest with context id guest_cid (>= 3, below
 * 2^32 - 1) and listens on uds_path (see vsock_uds_listen for a stale
 * socket file). The device needs the transport's I/O loop: attaching it
 * without one fails with ARCVM_E_INVALID. Destroy closes every connection
 * and the listener, and unlinks uds_path.
 * Fails with ARCVM_E_INVALID, ARCVM_E_BUSY, ARCVM_E_IO or ARCVM_E_NOMEM.
 */
int vsock_create(uint64_t guest_cid, const char *uds_path, struct virtio_dev **out,
		 struct arcvm_error *err);

#endif

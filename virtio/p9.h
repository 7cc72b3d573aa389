/*
 * p9.h - virtio-9p: a host folder shared into the guest over 9P2000.L
 * (the server is p9/server.h). The guest mounts it with
 *   mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 TAG /mnt
 */
#ifndef VIRTIO_P9_H
#define VIRTIO_P9_H

#include <stdbool.h>

#include "arcvm.h"
#include "virtio/device.h"

#define VIRTIO_ID_9P       9
#define VP9_QUEUE_SIZE     1024
#define VP9_TAG_MAX        255     /* bytes of mount tag */

/*
 * Shares host_dir under mount_tag. read_only: the guest's writes fail with
 * EROFS. Fails with ARCVM_E_INVALID for an empty or over-long tag, or a
 * host_dir that is not a directory, ARCVM_E_NOT_FOUND / ARCVM_E_PERMISSION
 * naming host_dir when it cannot be opened, ARCVM_E_NOMEM. host_dir and
 * mount_tag are copied. The device is freed by its destroy op.
 */
int vp9_create(const char *host_dir, const char *mount_tag, bool read_only,
	       struct virtio_dev **out, struct arcvm_error *err);

#endif

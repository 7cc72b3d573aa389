/*
 * blk.h - virtio-blk on a raw disk image (a regular file or a block device).
 */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H

#include "arcvm.h"
#include "virtio/device.h"

#define VBLK_QUEUE_SIZE 256
#define VBLK_SEG_MAX    (VBLK_QUEUE_SIZE - 2)   /* data buffers per request */
#define VBLK_MAX_RANGES 16                      /* discard / write-zeroes ranges per request */

/*
 * Opens drive->path (O_RDONLY when drive->read_only, else O_RDWR) and takes
 * an OFD lock on the whole image, a write lock for a writable image and a
 * read lock for a read-only one, so no two arcvm VMs can share a writable
 * image. Fails with ARCVM_E_BUSY naming the file when it is locked elsewhere,
 * ARCVM_E_NOT_FOUND / ARCVM_E_PERMISSION / ARCVM_E_IO when it cannot be
 * opened, ARCVM_E_INVALID for an empty path, an id over 20 bytes or a file
 * that is neither regular nor a block device. Nothing is left open on failure.
 *
 * drive->path and drive->id are copied; the caller may free them afterwards.
 * The device is freed by its destroy op (virtio_mmio_detach does it).
 */
int vblk_create(const struct arcvm_drive *drive, struct virtio_dev **out, struct arcvm_error *err);

/*
 * Points a running drive at another image, for a host that swaps media
 * (Firecracker's PATCH /drives). The new image is opened with the drive's
 * read-only mode and locked like the first; the guest gets a
 * configuration-change interrupt and sees the new capacity. On failure
 * (the errors of vblk_create) the drive keeps its old image.
 * Any thread; waits for a request in progress.
 */
int vblk_replace_image(struct virtio_dev *d, const char *path, struct arcvm_error *err);

#endif

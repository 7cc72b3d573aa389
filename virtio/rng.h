/*
 * rng.h - virtio-rng (entropy source) fed from the host's getrandom().
 */
#ifndef VIRTIO_RNG_H
#define VIRTIO_RNG_H

#include "arcvm.h"
#include "virtio/device.h"

#define VRNG_QUEUE_SIZE 64
#define VRNG_MAX_REQUEST 4096   /* bytes given per request, however large the buffer */

/* Creates the device. Fails only with ARCVM_E_NOMEM. */
int vrng_create(struct virtio_dev **out, struct arcvm_error *err);

#endif

/*
 * bus.h - dispatch of PIO and MMIO exits to the device that owns the address.
 *
 * Devices are registered before the vCPUs start and the table never changes
 * while they run, so dispatch takes no lock. A device called from several
 * vCPU threads (and its own I/O-thread work) does its own locking.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "arcvm.h"

/* `offset` is relative to the device's base; `data` holds `len` little-endian
 * bytes (1, 2, 4 or 8). A read fills data; an op left NULL reads as all ones
 * and ignores writes. */
struct bus_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

#define BUS_MAX_DEVICES 64

struct bus_device {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	struct bus_device devices[BUS_MAX_DEVICES];  /* sorted by base */
	int ndevices;
};

/* Adds [base, base+len). Refuses overlaps (naming both devices), a full table,
 * zero length and wrap-around with ARCVM_E_INVALID. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name, struct arcvm_error *err);

/* Calls the owning device. Returns false when no device owns addr..addr+len-1
 * (reads then return all ones). */
bool bus_dispatch(const struct bus *bus, uint64_t addr, bool is_write, void *data, unsigned len);

#endif

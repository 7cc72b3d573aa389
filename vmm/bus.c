/* bus.c - address-range dispatch of PIO and MMIO exits. */
#include "vmm/bus.h"

#include <string.h>

#include "util/err.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name, struct arcvm_error *err)
{
	if (len == 0 || base + len < base)
		return err_set(err, ARCVM_E_INVALID, "device %s: empty or wrapping range 0x%llx+%llu",
			       name, (unsigned long long)base, (unsigned long long)len);
	if (bus->ndevices == BUS_MAX_DEVICES)
		return err_set(err, ARCVM_E_INVALID, "device %s: bus is full (%d devices)", name,
			       BUS_MAX_DEVICES);
	int at = 0;
	while (at < bus->ndevices && bus->devices[at].base < base)
		at++;
	/* Sorted and non-overlapping: only the neighbours can collide. */
	const struct bus_device *prev = at > 0 ? &bus->devices[at - 1] : NULL;
	const struct bus_device *next = at < bus->ndevices ? &bus->devices[at] : NULL;
	const struct bus_device *hit = NULL;
	if (prev && prev->base + prev->len > base)
		hit = prev;
	else if (next && base + len > next->base)
		hit = next;
	if (hit)
		return err_set(err, ARCVM_E_INVALID, "device %s at 0x%llx overlaps device %s at 0x%llx",
			       name, (unsigned long long)base, hit->name,
			       (unsigned long long)hit->base);
	memmove(&bus->devices[at + 1], &bus->devices[at],
		sizeof(bus->devices[0]) * (size_t)(bus->ndevices - at));
	bus->devices[at] = (struct bus_device){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	bus->ndevices++;
	return 0;
}

static const struct bus_device *bus_find(const struct bus *bus, uint64_t addr, unsigned len)
{
	int lo = 0, hi = bus->ndevices - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct bus_device *d = &bus->devices[mid];
		if (addr < d->base)
			hi = mid - 1;
		else if (addr - d->base >= d->len)
			lo = mid + 1;
		else
			return len <= d->len - (addr - d->base) ? d : NULL;
	}
	return NULL;
}

bool bus_dispatch(const struct bus *bus, uint64_t addr, bool is_write, void *data, unsigned len)
{
	const struct bus_device *d = bus_find(bus, addr, len);
	if (!d) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (d->ops->write)
			d->ops->write(d->opaque, addr - d->base, data, len);
	} else if (d->ops->read) {
		d->ops->read(d->opaque, addr - d->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}

/*
 * i8042.h - the PS/2 keyboard controller with a keyboard behind it, enough
 * for Linux's i8042 and atkbd drivers to bind (no mouse port), for the CPU
 * reset line (command 0xFE, as Linux uses with reboot=k) and for the VMM to
 * type Ctrl+Alt+Del (Firecracker's SendCtrlAltDel).
 *
 * Threads: the ports are accessed from vCPU threads, i8042_ctrl_alt_del()
 * from any thread; a mutex guards the state. The set_irq callback and the
 * platform sink are called with it held.
 */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include <stdbool.h>

#include "arcvm.h"
#include "devices/platform.h"
#include "util/snapbuf.h"
#include "vmm/bus.h"


struct i8042;

struct i8042_config {
	const struct platform_sink *sink;          /* reset requests */
	void (*set_irq)(void *opaque, int level);  /* the IRQ 1 line */
	void *irq_opaque;
};

int i8042_create(const struct i8042_config *cfg, struct i8042 **out, struct arcvm_error *err);
void i8042_destroy(struct i8042 *k);

/* Bus ops taking the struct i8042 * as opaque: one port each, at
 * X86_I8042_PORT_DATA and X86_I8042_PORT_CMD. */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_cmd_ops;

/* Queues the scancodes of Ctrl+Alt+Del pressed and released. Fails with
 * ARCVM_E_BAD_STATE while the guest has not enabled the keyboard (no driver, or
 * it disabled scanning or the keyboard interface), and ARCVM_E_BUSY when the
 * output buffer lacks room (the guest is not reading it). */
int i8042_ctrl_alt_del(struct i8042 *k, struct arcvm_error *err);

/* Snapshot section KBDC (docs/snapshot.md); load validates every field. */
void i8042_save(struct i8042 *k, struct snap_writer *w);
int i8042_load(struct i8042 *k, struct snap_reader *r, struct arcvm_error *err);

#endif

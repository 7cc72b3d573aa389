/*
 * platform.h - the small x86 platform devices that let a guest end the VM:
 * the i8042 keyboard controller (its 0xFE "pulse reset line" command, as
 * Linux uses with reboot=k) and the ACPI hardware-reduced sleep and reset
 * registers (poweroff to S5, ACPI reset). Both only report the event.
 */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#include "arcvm.h"
#include "vmm/bus.h"

/* Called on the vCPU thread that made the request. */
typedef void (*platform_exit_fn)(void *opaque, enum arcvm_exit_reason reason);

struct platform_sink {
	platform_exit_fn exit;
	void *opaque;
};

/* Bus ops take a struct platform_sink * as opaque. i8042 is registered at
 * both X86_I8042_PORT_DATA and X86_I8042_PORT_CMD (one port each); the ACPI
 * registers as one range starting at X86_ACPI_SLEEP_CTL_PORT. */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_cmd_ops;
extern const struct bus_ops acpi_pm_ops;
#define ACPI_PM_PORT_COUNT 3

#endif

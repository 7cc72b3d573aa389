/*
 * platform.h - how the small x86 platform devices end the VM: the ACPI
 * hardware-reduced sleep and reset registers (poweroff to S5, ACPI reset)
 * and the i8042's reset line (devices/i8042.h) report the event here.
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

/* Bus ops take a struct platform_sink * as opaque: the ACPI registers as
 * one range starting at X86_ACPI_SLEEP_CTL_PORT. */
extern const struct bus_ops acpi_pm_ops;
#define ACPI_PM_PORT_COUNT 3

#endif

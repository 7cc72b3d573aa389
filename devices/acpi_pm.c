/* acpi_pm.c - ACPI hardware-reduced sleep control/status and reset registers. */
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/platform.h"

#define SLP_EN          0x20
#define SLP_TYP(v)      (((v) >> 2) & 7)
#define OFF_SLEEP_CTL   (X86_ACPI_SLEEP_CTL_PORT - X86_ACPI_SLEEP_CTL_PORT)
#define OFF_RESET       (X86_ACPI_RESET_PORT - X86_ACPI_SLEEP_CTL_PORT)

static void acpi_pm_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void acpi_pm_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	const struct platform_sink *sink = opaque;
	uint8_t v = ((const uint8_t *)data)[0];
	if (off == OFF_SLEEP_CTL && (v & SLP_EN) && SLP_TYP(v) == X86_ACPI_S5_SLP_TYP)
		sink->exit(sink->opaque, ARCVM_EXIT_POWEROFF);
	else if (off == OFF_RESET && v == X86_ACPI_RESET_VALUE)
		sink->exit(sink->opaque, ARCVM_EXIT_REBOOT);
}

const struct bus_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

/* i8042.c - just enough of the PS/2 controller for the reset path. */
#include <string.h>

#include "devices/platform.h"

#define I8042_CMD_RESET 0xFE   /* pulse the CPU reset line */

/* No keyboard or mouse: status reads "nothing to read, ready for input". */
static void i8042_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void i8042_cmd_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	const struct platform_sink *sink = opaque;
	if (((const uint8_t *)data)[0] == I8042_CMD_RESET)
		sink->exit(sink->opaque, ARCVM_EXIT_REBOOT);
}

const struct bus_ops i8042_data_ops = { .read = i8042_read };
const struct bus_ops i8042_cmd_ops = { .read = i8042_read, .write = i8042_cmd_write };

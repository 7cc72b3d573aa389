/* config.c - config defaults and the names of the public enums. */
#include <string.h>

#include "arcvm.h"

void arcvm_config_init(struct arcvm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = 512ull << 20;
	cfg->cpus = 1;
	cfg->boot = ARCVM_BOOT_LINUX;
	cfg->console_in_fd = 0;
	cfg->console_out_fd = 1;
	cfg->shared_fd = -1;
}

const char *arcvm_state_name(enum arcvm_state s)
{
	switch (s) {
	case ARCVM_STATE_CREATED: return "created";
	case ARCVM_STATE_RUNNING: return "running";
	case ARCVM_STATE_PAUSED: return "paused";
	case ARCVM_STATE_STOPPED: return "stopped";
	}
	return "unknown";
}

const char *arcvm_exit_reason_name(enum arcvm_exit_reason r)
{
	switch (r) {
	case ARCVM_EXIT_NONE: return "none";
	case ARCVM_EXIT_POWEROFF: return "poweroff";
	case ARCVM_EXIT_REBOOT: return "reboot";
	case ARCVM_EXIT_TRIPLE_FAULT: return "triple-fault";
	case ARCVM_EXIT_PANIC: return "panic";
	case ARCVM_EXIT_HALT: return "halt";
	case ARCVM_EXIT_STOPPED: return "stopped";
	case ARCVM_EXIT_ERROR: return "error";
	}
	return "unknown";
}

/* native.c - helpers for the native-tier tests. */
#include "tests/native/native.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

void native_config(struct arcvm_config *cfg, enum arcvm_boot_mode mode, const uint8_t *code,
		   size_t size)
{
	arcvm_config_init(cfg);
	cfg->boot = mode;
	cfg->mem_size = 4 << 20;
	cfg->raw_image = code;
	cfg->raw_size = size;
	cfg->raw_load_addr = mode == ARCVM_BOOT_RAW16 ? RM_LOAD : LM_LOAD;
	cfg->console_in_fd = -1;
	cfg->console_out_fd = -1;
}

static void port_handler(void *opaque, uint64_t port, bool is_write, void *data, unsigned len)
{
	struct port_log *log = opaque;
	if (port == LOOP_PORT) {
		log->loop_exits++;
		return;
	}
	if (!is_write) {
		if (port == INPUT_PORT)
			log->input_reads++;
		memcpy(data, &log->input_value, len < 4 ? len : 4);
		return;
	}
	if (log->count < 64) {
		uint32_t v = 0;
		memcpy(&v, data, len < 4 ? len : 4);
		log->values[log->count] = v;
		log->sizes[log->count] = len;
		log->count++;
	}
}

void native_watch_ports(struct arcvm_vm *vm, struct port_log *log)
{
	struct arcvm_error err;
	int rc = arcvm_exit_handler(vm, ARCVM_SPACE_PIO, RESULT_PORT, LOOP_PORT - RESULT_PORT + 1,
				    port_handler, log, &err);
	if (rc)
		fail_msg("arcvm_exit_handler: %s", err.msg);
}

enum arcvm_exit_reason native_run(struct arcvm_config *cfg, struct port_log *log,
				  struct arcvm_vm **keep)
{
	struct arcvm_vm *vm;
	struct arcvm_error err;
	if (arcvm_vm_create(cfg, &vm, &err))
		fail_msg("arcvm_vm_create: %s", err.msg);
	if (log)
		native_watch_ports(vm, log);
	if (arcvm_vm_boot(vm, &err))
		fail_msg("arcvm_vm_boot: %s", err.msg);
	enum arcvm_exit_reason r = ARCVM_EXIT_NONE;
	if (arcvm_vm_wait(vm, 10000, &r, &err))
		fail_msg("arcvm_vm_wait: %s", err.msg);
	if (keep)
		*keep = vm;
	else
		arcvm_vm_destroy(vm);
	return r;
}

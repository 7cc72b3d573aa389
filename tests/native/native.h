/* native.h - helpers shared by the native-tier tests (tiny guests on /dev/kvm). */
#ifndef TESTS_NATIVE_H
#define TESTS_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

#define GUEST_DECL(name) extern const uint8_t name##_start[], name##_end[]
#define GUEST_SIZE(name) ((size_t)(name##_end - name##_start))

#define RM_LOAD 0x1000ull
#define LM_LOAD 0x100000ull
#define RESULT_PORT 0xE0
#define INPUT_PORT 0xE4
#define LOOP_PORT 0xE8

/* What the result-port handler saw. */
struct port_log {
	uint32_t values[64];
	unsigned sizes[64];
	int count;
	uint32_t input_value;   /* returned on reads of INPUT_PORT */
	uint32_t input_reads;   /* reads of INPUT_PORT */
	int loop_exits;         /* writes to LOOP_PORT */
};

/* Fills cfg for a raw guest with 4 MiB of RAM and consoles off. */
void native_config(struct arcvm_config *cfg, enum arcvm_boot_mode mode, const uint8_t *code,
		   size_t size);
/* Registers the port handler for RESULT_PORT..LOOP_PORT on vm. */
void native_watch_ports(struct arcvm_vm *vm, struct port_log *log);
/* Creates, boots and waits (10 s at most) for a raw guest; returns the exit reason. */
enum arcvm_exit_reason native_run(struct arcvm_config *cfg, struct port_log *log,
				  struct arcvm_vm **keep);

#endif

/* interp.h - the bytecode interpreter. */
#ifndef ION_INTERP_H
#define ION_INTERP_H

#include <stdint.h>

#include "ion/value.h"

struct ion_proc;

enum ion_run_status {
	ION_RUN_YIELD,  /* budget spent: put it back on the run queue */
	ION_RUN_WAIT,   /* blocked in receive (or asleep) */
	ION_RUN_EXIT,   /* ended: p->reason holds the exit reason, p->result the value */
	ION_RUN_RETURN, /* internal: a nested call returned */
	ION_RUN_ERROR   /* internal: a nested call raised; p->reason holds the error */
};

/* Sets up the first frame of p: callee fn with args already in
 * p->stack[0..nargs). Returns 0 or ION_E_INVALID (not callable, arity). */
int ion_interp_enter(struct ion_proc *p, ion_value fn, uint32_t nargs);
/* Runs p for at most `budget` reductions. */
int ion_interp_run(struct ion_proc *p, uint32_t budget);
/* Calls fn from a native and runs it to completion on p's stack. Returns 0
 * with *out set, or ION_NATIVE_ERROR with p->reason set. The callee may not
 * block in receive. The native's args pointer may be stale afterwards. */
int ion_interp_call(struct ion_proc *p, ion_value fn, const ion_value *args, uint32_t nargs,
		    ion_value *out);

#endif

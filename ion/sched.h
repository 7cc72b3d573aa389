/* sched.h - the scheduler: the process table, a FIFO run queue, a timer
 * heap for receive timeouts and sleeps, and the loop that runs processes
 * round-robin, each for at most `budget` reductions per slice.
 * When nothing is runnable but a timer is pending the loop sleeps until the
 * earliest deadline; when nothing is runnable and no timer is pending, every
 * process waits forever and the run ends with ION_E_DEADLOCK.
 */
#ifndef ION_SCHED_H
#define ION_SCHED_H

#include <stdint.h>

#include "ion/value.h"

struct ion_vm;
struct ion_proc;

struct ion_sched {
	struct ion_proc **slots;   /* slot -> live process, NULL when free */
	uint32_t *gens;            /* slot -> generation of its current/next owner */
	uint32_t nslots, capslots;
	uint32_t *freelist;
	uint32_t nfree, capfree;
	struct ion_proc *rq_head, *rq_tail;
	struct ion_proc **timers;  /* binary min-heap on deadline */
	uint32_t ntimers, captimers;
	uint32_t live;
	uint32_t budget;
	uint64_t spent;            /* reductions of the current run */
	struct ion_proc *current;
	struct ion_proc *main;     /* not freed when it ends: the runner reads its result */
};

uint64_t ion_now_ns(void);
void ion_sched_destroy(struct ion_vm *vm);
struct ion_proc *ion_sched_lookup(struct ion_vm *vm, ion_value pid);
void ion_sched_enqueue(struct ion_vm *vm, struct ion_proc *p);
void ion_sched_timer_set(struct ion_vm *vm, struct ion_proc *p, uint64_t deadline);
void ion_sched_timer_cancel(struct ion_vm *vm, struct ion_proc *p);

/* A new runnable process calling fn (function, closure or callable object
 * of `from`'s heap, or of no heap when from is NULL) with copies of args. */
int ion_sched_spawn(struct ion_vm *vm, struct ion_proc *from, ion_value fn,
		    const ion_value *args, uint32_t nargs, struct ion_proc **out);
/* Copies msg into the receiver's mailbox and wakes it; a dead pid is ignored.
 * Returns -1 only when out of memory. */
int ion_sched_send(struct ion_vm *vm, ion_value pid, ion_value msg);
/* Ends p with reason: signals links, notifies monitors, frees p. */
void ion_sched_exit(struct ion_vm *vm, struct ion_proc *p, ion_value reason);
/* Runs until `main` has ended; returns 0, ION_E_DEADLOCK or ION_E_LIMIT. */
int ion_sched_run(struct ion_vm *vm, struct ion_proc *main);

#endif

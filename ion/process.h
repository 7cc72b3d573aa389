/* process.h - a lightweight process: registers and call frames, a mailbox,
 * its own heap, links and monitors.
 *
 * Processes of one VM run on the VM's single scheduler thread; nothing here
 * is locked. A process is referred to by pid values (slot + generation), so
 * a pid of a dead process never reaches a reused slot's new owner.
 */
#ifndef ION_PROCESS_H
#define ION_PROCESS_H

#include <stdint.h>

#include "ion/func.h"
#include "ion/gc.h"

struct ion_vm;

/* WAITING: in receive, woken by a message or its timer; SLEEPING: woken by its timer only. */
enum ion_pstate { ION_P_RUNNABLE, ION_P_RUNNING, ION_P_WAITING, ION_P_SLEEPING, ION_P_DEAD };

enum ion_frame_flags {
	ION_FRAME_BOUNDARY = 1 /* returning from it ends a nested ion_interp_call */
};

struct ion_frame {
	struct ion_func *fn;
	struct ion_closure *cl; /* the running closure, or NULL for a plain function */
	const uint64_t *pc;     /* saved resume point of a suspended frame */
	uint32_t base;          /* first register in the process stack */
	uint16_t ret;           /* caller register receiving the result */
	uint16_t flags;
};

struct ion_monitor {
	ion_value watcher; /* pid to notify */
	ion_value ref;     /* reference handed out by monitor */
};

#define ION_FRAMES_MAX (1u << 17) /* call depth limit */

struct ion_proc {
	struct ion_vm *vm;
	ion_value pid;
	uint8_t state;          /* enum ion_pstate */
	uint8_t trap_exit;
	uint8_t timed_out;      /* a receive_timeout deadline passed */
	uint8_t in_native;      /* > 0 while natives call back into bytecode */
	uint8_t exiting;        /* a native asked to end the process with p->reason */
	uint8_t resume_return;  /* on resume, return nil from the top frame (tail-called sleep) */
	uint32_t timer_pos;     /* position in the timer heap + 1, 0 = none */
	uint64_t deadline;      /* monotonic ns */
	struct ion_proc *next, *prev; /* run queue links, valid while RUNNABLE */

	ion_value *stack;
	uint32_t stack_cap;
	struct ion_frame *frames;
	uint32_t nframes, frames_cap;

	ion_value *mbox;        /* ring buffer of messages, oldest at mb_head */
	uint32_t mb_head, mb_len, mb_cap;

	ion_value *links;
	uint32_t nlinks, caplinks;
	struct ion_monitor *mons; /* who watches this process */
	uint32_t nmons, capmons;

	struct ion_heap heap;
	ion_value *temp;        /* roots natives hold in C locals; allocated on first use */
	uint32_t ntemp, captemp;

	ion_value reason;       /* exit reason once it ends; error value while raising */
	ion_value result;       /* return value of the bottom frame */
	char *trace;            /* stack trace of an uncaught error (malloc'd) */
	uint64_t reductions;    /* total reductions spent, for fairness tests */
};

struct ion_proc *ion_proc_new(struct ion_vm *vm);
void ion_proc_free(struct ion_proc *p);
/* Makes sure registers [0, need) exist; returns -1 when out of memory. */
int ion_proc_reserve(struct ion_proc *p, uint32_t need);
int ion_proc_push_frame(struct ion_proc *p, struct ion_func *fn, struct ion_closure *cl,
			uint32_t base, uint16_t ret);
int ion_proc_mbox_push(struct ion_proc *p, ion_value v);
static inline int ion_proc_mbox_pop(struct ion_proc *p, ion_value *v)
{
	if (!p->mb_len)
		return 0;
	*v = p->mbox[p->mb_head];
	p->mb_head = (p->mb_head + 1) & (p->mb_cap - 1);
	p->mb_len--;
	return 1;
}
/* Roots v until the matching pop; -1 (nothing pushed) when out of memory. */
int ion_proc_push_root(struct ion_proc *p, ion_value v);
static inline void ion_proc_pop_root(struct ion_proc *p) { if (p->ntemp) p->ntemp--; }

/* ion_proc_raise (ion.h) records {kind, message} as p->reason; this
 * records an arbitrary error value. */
int ion_proc_raise_value(struct ion_proc *p, ion_value v);

int ion_proc_add_link(struct ion_proc *p, ion_value pid);
void ion_proc_remove_link(struct ion_proc *p, ion_value pid);
int ion_proc_add_monitor(struct ion_proc *p, ion_value watcher, ion_value ref);

#endif

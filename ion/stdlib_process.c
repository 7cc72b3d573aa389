/* stdlib_process.c - process.*: the actor operations as functions. */
#include <math.h>

#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/process.h"
#include "ion/sched.h"
#include "ion/vm.h"

static int pr_spawn(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	if (n < 1)
		return ion_proc_raise(p, "badarity", "process.spawn(f, args...)");
	struct ion_proc *np;
	ion_value fn = a[0];
	if (!ion_is_func(fn) && !ion_is_otype(fn, ION_O_CLOSURE))
		return ion_proc_raise(p, "badarg", "process.spawn needs a function or closure");
	int arity = ion_is_func(fn) ? ion_as_func(fn)->arity :
				      ((struct ion_closure *)ion_as_obj(fn))->fn->arity;
	if (arity != n - 1)
		return ion_proc_raise(p, "badarity", "spawned function takes %d arguments, %d given",
				      arity, n - 1);
	if (ion_sched_spawn(p->vm, p, fn, a + 1, (uint32_t)(n - 1), &np))
		return ion_proc_raise(p, "system_limit", "cannot spawn a process");
	*out = np->pid;
	return ION_NATIVE_OK;
}

static int pr_self(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	*out = p->pid;
	return ION_NATIVE_OK;
}

/* Sleeps without waking for messages: the scheduler runs the process again
 * when the timer fires (state SLEEPING is not woken by send). */
static int pr_sleep(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	double ms;
	if (ion_arg_num(p, a, 0, &ms))
		return ION_NATIVE_ERROR;
	if (!(ms > 0))
		return ION_NATIVE_OK;
	if (p->in_native)
		return ion_proc_raise(p, "badcall", "cannot sleep inside a callback");
	uint64_t dl = ion_now_ns() + (ms > 1e12 ? (uint64_t)1 << 62 : (uint64_t)(ms * 1e6));
	ion_sched_timer_set(p->vm, p, dl);
	p->state = ION_P_SLEEPING;
	*out = ION_NIL;
	return ION_NATIVE_WAIT;
}

static int pr_exit(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	p->reason = a[0];
	p->exiting = 1;
	return ION_NATIVE_ERROR;
}

const struct ion_native ion_stdlib_process[] = {
	{ "process.spawn", -1, "start f(args...) as a new process; returns its pid", pr_spawn },
	{ "process.self", 0, "pid of the running process", pr_self },
	{ "process.sleep", 1, "wait ms milliseconds (messages do not wake it)", pr_sleep },
	{ "process.exit", 1, "end the running process with a reason", pr_exit },
	{ NULL, 0, NULL, NULL }
};

/* actor.c - spawn, link, monitor and receive deadlines for the interpreter. */
#include <math.h>

#include "ion/actor.h"
#include "ion/func.h"
#include "ion/object.h"
#include "ion/process.h"
#include "ion/sched.h"
#include "ion/vm.h"

int ion_actor_deadline(struct ion_proc *p, ion_value v, uint64_t *deadline)
{
	if (!ion_is_num(v))
		return ion_proc_raise(p, "badarg", "receive timeout must be a number of ms");
	double ms = ion_num(v);
	if (ms != ms)
		return ion_proc_raise(p, "badarg", "receive timeout is NaN");
	if (ms > 1e12) /* about 30 years: as good as forever, and no overflow */
		return 1;
	*deadline = ion_now_ns() + (ms > 0 ? (uint64_t)(ms * 1e6) : 0);
	return 0;
}

int ion_actor_link(struct ion_proc *p, ion_value pid)
{
	struct ion_vm *vm = p->vm;
	if (!ion_is_pid(pid))
		return ion_proc_raise(p, "badarg", "link needs a pid");
	struct ion_proc *q = ion_sched_lookup(vm, pid);
	if (q == p)
		return 0;
	if (!q || q->state == ION_P_DEAD) {
		if (!p->trap_exit)
			return ion_proc_raise(p, "noproc", "link to a process that does not exist");
		ion_value m[3] = { ion_atom_val(vm->a.EXIT), pid, ion_atom_val(vm->a.noproc) };
		struct ion_tuple *t = ion_tuple_new(&p->heap, 3);
		if (!t || (memcpy(t->items, m, sizeof m), ion_proc_mbox_push(p, ion_box(ION_TAG_OBJ, t))))
			return ion_proc_raise(p, "nomem", "out of memory");
		return 0;
	}
	if (ion_proc_add_link(p, pid) || ion_proc_add_link(q, p->pid))
		return ion_proc_raise(p, "nomem", "out of memory");
	return 0;
}

int ion_actor_monitor(struct ion_proc *p, ion_value pid, ion_value *ref)
{
	struct ion_vm *vm = p->vm;
	if (!ion_is_pid(pid))
		return ion_proc_raise(p, "badarg", "monitor needs a pid");
	*ref = ion_from_num((double)++vm->next_ref);
	struct ion_proc *q = ion_sched_lookup(vm, pid);
	if (q && q->state != ION_P_DEAD && q != p)
		return ion_proc_add_monitor(q, p->pid, *ref) ? ion_proc_raise(p, "nomem", "out of memory") : 0;
	ion_value m[4] = { ion_atom_val(vm->a.DOWN), *ref, pid, ion_atom_val(vm->a.noproc) };
	struct ion_tuple *t = ion_tuple_new(&p->heap, 4);
	if (!t || (memcpy(t->items, m, sizeof m), ion_proc_mbox_push(p, ion_box(ION_TAG_OBJ, t))))
		return ion_proc_raise(p, "nomem", "out of memory");
	return 0;
}

int ion_actor_spawn(struct ion_proc *p, ion_value fn, ion_value args, ion_value *out)
{
	const ion_value *items = NULL;
	uint32_t n = 0;
	if (ion_is_otype(args, ION_O_TUPLE)) {
		items = ((struct ion_tuple *)ion_as_obj(args))->items;
		n = ion_as_obj(args)->len;
	} else if (ion_is_otype(args, ION_O_ARRAY)) {
		items = ((struct ion_array *)ion_as_obj(args))->items;
		n = ion_as_obj(args)->len;
	} else if (args != ION_NIL) {
		return ion_proc_raise(p, "badarg", "spawn arguments must be a tuple, array or nil");
	}
	if (n > 256)
		return ion_proc_raise(p, "badarg", "too many spawn arguments");
	int arity = ion_is_func(fn) ? ion_as_func(fn)->arity :
		    ion_is_otype(fn, ION_O_CLOSURE) ? ((struct ion_closure *)ion_as_obj(fn))->fn->arity : -2;
	if (arity == -2)
		return ion_proc_raise(p, "badarg", "spawn needs a function or closure");
	if ((uint32_t)arity != n)
		return ion_proc_raise(p, "badarity", "spawned function takes %d arguments, %u given",
				      arity, n);
	struct ion_proc *np;
	if (ion_sched_spawn(p->vm, p, fn, items, n, &np))
		return ion_proc_raise(p, "system_limit", "cannot spawn a process");
	*out = np->pid;
	return 0;
}


/* sched.c - process table, run queue, timers, spawn/send/exit and the loop. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "ion/func.h"
#include "ion/interp.h"
#include "ion/process.h"
#include "ion/vm.h"

uint64_t ion_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ion_sched_destroy(struct ion_vm *vm)
{
	struct ion_sched *s = &vm->sched;
	for (uint32_t i = 0; i < s->nslots; i++)
		ion_proc_free(s->slots[i]);
	free(s->slots);
	free(s->gens);
	free(s->freelist);
	free(s->timers);
	memset(s, 0, sizeof *s);
}

struct ion_proc *ion_sched_lookup(struct ion_vm *vm, ion_value pid)
{
	uint32_t slot = ion_pid_slot(pid);
	struct ion_sched *s = &vm->sched;
	if (slot >= s->nslots || s->gens[slot] != ion_pid_gen(pid))
		return NULL;
	return s->slots[slot];
}

static int table_add(struct ion_vm *vm, struct ion_proc *p)
{
	struct ion_sched *s = &vm->sched;
	uint32_t slot;
	if (s->nfree) {
		slot = s->freelist[--s->nfree];
	} else {
		if (s->nslots >= (1u << 24))
			return -1;
		if (s->nslots == s->capslots) {
			uint32_t cap = s->capslots ? s->capslots * 2 : 64;
			struct ion_proc **ns = realloc(s->slots, cap * sizeof *ns);
			if (!ns)
				return -1;
			s->slots = ns;
			uint32_t *ng = realloc(s->gens, cap * sizeof *ng);
			if (!ng)
				return -1;
			s->gens = ng;
			s->capslots = cap;
		}
		slot = s->nslots++;
		s->gens[slot] = 1;
	}
	s->slots[slot] = p;
	p->pid = ion_pid(slot, s->gens[slot]);
	s->live++;
	return 0;
}

static void table_remove(struct ion_vm *vm, struct ion_proc *p)
{
	struct ion_sched *s = &vm->sched;
	uint32_t slot = ion_pid_slot(p->pid);
	s->slots[slot] = NULL;
	s->gens[slot] = (s->gens[slot] + 1) & 0xFFFFFFu;
	s->live--;
	if (s->nfree == s->capfree) {
		uint32_t cap = s->capfree ? s->capfree * 2 : 64;
		uint32_t *nf = realloc(s->freelist, cap * sizeof *nf);
		if (!nf)
			return; /* the slot is leaked, never reused: still safe */
		s->freelist = nf;
		s->capfree = cap;
	}
	s->freelist[s->nfree++] = slot;
}

void ion_sched_enqueue(struct ion_vm *vm, struct ion_proc *p)
{
	struct ion_sched *s = &vm->sched;
	p->state = ION_P_RUNNABLE;
	p->next = NULL;
	p->prev = s->rq_tail;
	if (s->rq_tail)
		s->rq_tail->next = p;
	else
		s->rq_head = p;
	s->rq_tail = p;
}

/* O(1) removal of a queued process (one killed by a link, for example). */
static void unqueue(struct ion_sched *s, struct ion_proc *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->rq_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		s->rq_tail = p->prev;
	p->next = p->prev = NULL;
}

static struct ion_proc *dequeue(struct ion_sched *s)
{
	struct ion_proc *p = s->rq_head;
	if (p)
		unqueue(s, p);
	return p;
}

/* ---- timer heap: timers[i]->timer_pos == i + 1 ---- */

static void heap_place(struct ion_sched *s, uint32_t i, struct ion_proc *p)
{
	s->timers[i] = p;
	p->timer_pos = i + 1;
}

static void heap_up(struct ion_sched *s, uint32_t i)
{
	struct ion_proc *p = s->timers[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (s->timers[parent]->deadline <= p->deadline)
			break;
		heap_place(s, i, s->timers[parent]);
		i = parent;
	}
	heap_place(s, i, p);
}

static void heap_down(struct ion_sched *s, uint32_t i)
{
	struct ion_proc *p = s->timers[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= s->ntimers)
			break;
		if (c + 1 < s->ntimers && s->timers[c + 1]->deadline < s->timers[c]->deadline)
			c++;
		if (s->timers[c]->deadline >= p->deadline)
			break;
		heap_place(s, i, s->timers[c]);
		i = c;
	}
	heap_place(s, i, p);
}

void ion_sched_timer_cancel(struct ion_vm *vm, struct ion_proc *p)
{
	struct ion_sched *s = &vm->sched;
	if (!p->timer_pos)
		return;
	uint32_t i = p->timer_pos - 1;
	p->timer_pos = 0;
	struct ion_proc *last = s->timers[--s->ntimers];
	if (i == s->ntimers)
		return;
	heap_place(s, i, last);
	heap_up(s, i);
	heap_down(s, last->timer_pos - 1);
}

void ion_sched_timer_set(struct ion_vm *vm, struct ion_proc *p, uint64_t deadline)
{
	struct ion_sched *s = &vm->sched;
	ion_sched_timer_cancel(vm, p);
	if (s->ntimers == s->captimers) {
		uint32_t cap = s->captimers ? s->captimers * 2 : 64;
		struct ion_proc **n = realloc(s->timers, cap * sizeof *n);
		if (!n) {
			/* Without a timer the process would wait forever: time it out now. */
			p->deadline = 0;
			p->timed_out = 1;
			return;
		}
		s->timers = n;
		s->captimers = cap;
	}
	p->deadline = deadline;
	heap_place(s, s->ntimers++, p);
	heap_up(s, s->ntimers - 1);
}

static void fire_timers(struct ion_vm *vm, uint64_t now)
{
	struct ion_sched *s = &vm->sched;
	while (s->ntimers && s->timers[0]->deadline <= now) {
		struct ion_proc *p = s->timers[0];
		ion_sched_timer_cancel(vm, p);
		if (p->state == ION_P_SLEEPING) {
			ion_sched_enqueue(vm, p);
		} else {
			p->timed_out = 1;
			if (p->state == ION_P_WAITING)
				ion_sched_enqueue(vm, p);
		}
	}
}

/* ---- spawn, send, exit ---- */

int ion_sched_spawn(struct ion_vm *vm, struct ion_proc *from, ion_value fn,
		    const ion_value *args, uint32_t nargs, struct ion_proc **out)
{
	struct ion_proc *p = ion_proc_new(vm);
	if (!p)
		return ION_E_NOMEM;
	p->heap.inhibit++;
	int rc = ion_gc_copy(&p->heap, fn, &fn);
	if (!rc && ion_proc_reserve(p, nargs + 1))
		rc = -1;
	for (uint32_t i = 0; i < nargs && !rc; i++)
		rc = ion_gc_copy(&p->heap, args[i], &p->stack[i]);
	p->heap.inhibit--;
	if (rc || table_add(vm, p)) {
		ion_proc_free(p);
		return ION_E_NOMEM;
	}
	rc = ion_interp_enter(p, fn, nargs);
	if (rc) {
		table_remove(vm, p);
		ion_proc_free(p);
		return rc;
	}
	ion_sched_enqueue(vm, p);
	*out = p;
	return 0;
}

int ion_sched_send(struct ion_vm *vm, ion_value pid, ion_value msg)
{
	struct ion_proc *to = ion_sched_lookup(vm, pid);
	if (!to || to->state == ION_P_DEAD)
		return 0;
	ion_value copy;
	if (ion_gc_copy(&to->heap, msg, &copy) || ion_proc_mbox_push(to, copy))
		return -1;
	if (to->state == ION_P_WAITING)
		ion_sched_enqueue(vm, to);
	return 0;
}

static ion_value make_tuple(struct ion_proc *to, const ion_value *items, uint32_t n)
{
	struct ion_tuple *t = ion_tuple_new(&to->heap, n);
	if (!t)
		return ION_NIL;
	memcpy(t->items, items, n * sizeof *items);
	return ion_box(ION_TAG_OBJ, t);
}

/* Delivers {tag, a, b[, c]} built in the receiver's heap. */
static void notify(struct ion_vm *vm, ion_value pid, ion_value *items, uint32_t n)
{
	struct ion_proc *to = ion_sched_lookup(vm, pid);
	if (!to || to->state == ION_P_DEAD)
		return;
	to->heap.inhibit++;
	for (uint32_t i = 0; i < n; i++)
		if (ion_gc_copy(&to->heap, items[i], &items[i]))
			goto out;
	ion_value msg = make_tuple(to, items, n);
	if (msg != ION_NIL && ion_proc_mbox_push(to, msg) == 0 && to->state == ION_P_WAITING)
		ion_sched_enqueue(vm, to);
out:
	to->heap.inhibit--;
}

/* Marks q dead with its reason; it stays in the table until processed. */
static void mark_dead(struct ion_vm *vm, struct ion_proc *q, ion_value reason)
{
	if (q->state == ION_P_RUNNABLE)
		unqueue(&vm->sched, q);
	ion_sched_timer_cancel(vm, q);
	q->state = ION_P_DEAD;
	q->reason = reason;
	q->next = NULL;
}

/* Tells p's monitors and links that it ended; linked processes that die of
 * it are appended to the work list (through `next`, free once dead), so a
 * long chain of links is walked without recursion. */
static void signal_exit(struct ion_vm *vm, struct ion_proc *p, struct ion_proc **tail)
{
	ion_value reason = p->reason;
	bool is_normal = reason == ion_atom_val(vm->a.normal);
	for (uint32_t i = 0; i < p->nmons; i++) {
		ion_value msg[4] = { ion_atom_val(vm->a.DOWN), p->mons[i].ref, p->pid, reason };
		notify(vm, p->mons[i].watcher, msg, 4);
	}
	for (uint32_t i = 0; i < p->nlinks; i++) {
		struct ion_proc *q = ion_sched_lookup(vm, p->links[i]);
		if (!q || q->state == ION_P_DEAD)
			continue;
		ion_proc_remove_link(q, p->pid);
		if (q->trap_exit) {
			ion_value msg[3] = { ion_atom_val(vm->a.EXIT), p->pid, reason };
			notify(vm, q->pid, msg, 3);
		} else if (!is_normal) {
			ion_value r;
			q->heap.inhibit++;
			if (ion_gc_copy(&q->heap, reason, &r))
				r = ion_atom_val(vm->a.killed);
			q->heap.inhibit--;
			mark_dead(vm, q, r);
			(*tail)->next = q;
			*tail = q;
		}
	}
	p->nlinks = 0;
}

void ion_sched_exit(struct ion_vm *vm, struct ion_proc *p, ion_value reason)
{
	mark_dead(vm, p, reason);
	struct ion_proc *head = p, *tail = p;
	while (head) {
		struct ion_proc *cur = head;
		signal_exit(vm, cur, &tail);
		head = cur->next;
		table_remove(vm, cur);
		if (cur != vm->sched.main)
			ion_proc_free(cur); /* main is freed by whoever started the run */
	}
}

/* ---- the loop ---- */

static void idle_wait(struct ion_vm *vm)
{
	uint64_t now = ion_now_ns(), dl = vm->sched.timers[0]->deadline;
	if (dl <= now)
		return;
	struct timespec ts = { (time_t)((dl - now) / 1000000000ull), (long)((dl - now) % 1000000000ull) };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int ion_sched_run(struct ion_vm *vm, struct ion_proc *main)
{
	struct ion_sched *s = &vm->sched;
	s->main = main;
	while (main->state != ION_P_DEAD) {
		if (s->ntimers)
			fire_timers(vm, ion_now_ns());
		struct ion_proc *p = dequeue(s);
		if (!p) {
			if (!s->ntimers)
				return ION_E_DEADLOCK;
			if (vm->cfg.debug & ION_DEBUG_SCHED)
				ion_vm_printf(vm, ION_STDERR, "[sched] idle until next timer\n");
			idle_wait(vm);
			continue;
		}
		if (vm->cfg.debug & ION_DEBUG_SCHED)
			ion_vm_printf(vm, ION_STDERR, "[sched] run <pid %u>\n", ion_pid_slot(p->pid));
		s->current = p;
		p->state = ION_P_RUNNING;
		uint64_t before = p->reductions;
		int st = ion_interp_run(p, s->budget);
		s->current = NULL;
		s->spent += p->reductions - before;
		switch (st) {
		case ION_RUN_YIELD:
			ion_sched_enqueue(vm, p);
			break;
		case ION_RUN_WAIT:
			if (p->state == ION_P_RUNNING)
				p->state = ION_P_WAITING;
			if (vm->cfg.debug & ION_DEBUG_SCHED)
				ion_vm_printf(vm, ION_STDERR, "[sched] <pid %u> waits\n", ion_pid_slot(p->pid));
			break;
		default: /* ION_RUN_EXIT: reason set */
			if (vm->cfg.debug & ION_DEBUG_SCHED)
				ion_vm_printf(vm, ION_STDERR, "[sched] <pid %u> exits\n", ion_pid_slot(p->pid));
			ion_sched_exit(vm, p, p->reason);
			break;
		}
		if (vm->cfg.max_reductions && s->spent > vm->cfg.max_reductions &&
		    main->state != ION_P_DEAD)
			return ION_E_LIMIT;
	}
	return 0;
}

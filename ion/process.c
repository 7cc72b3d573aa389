/* process.c - process memory: registers, frames, mailbox, links, errors. */
#include <stdio.h>
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/vm.h"

/* Roots of a process heap: live registers, the mailbox, the temporaries
 * natives push, the closures of active frames and the pending reason. */
static void proc_roots(void *ctx, struct ion_gc_marker *m)
{
	struct ion_proc *p = ctx;
	uint32_t top = 0;
	for (uint32_t i = 0; i < p->nframes; i++) {
		const struct ion_frame *f = &p->frames[i];
		uint32_t end = f->base + f->fn->nregs;
		if (end > top)
			top = end;
		if (f->cl)
			ion_gc_mark(m, ion_box(ION_TAG_OBJ, f->cl));
	}
	for (uint32_t i = 0; i < top && i < p->stack_cap; i++)
		ion_gc_mark(m, p->stack[i]);
	for (uint32_t i = 0; i < p->mb_len; i++)
		ion_gc_mark(m, p->mbox[(p->mb_head + i) & (p->mb_cap - 1)]);
	for (uint32_t i = 0; i < p->ntemp; i++)
		ion_gc_mark(m, p->temp[i]);
	ion_gc_mark(m, p->reason);
	ion_gc_mark(m, p->result);
}

struct ion_proc *ion_proc_new(struct ion_vm *vm)
{
	struct ion_proc *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->vm = vm;
	p->reason = ION_NIL;
	p->result = ION_NIL;
	ion_heap_init(&p->heap, &vm->gc_epoch, proc_roots, p);
	return p;
}

void ion_proc_free(struct ion_proc *p)
{
	if (!p)
		return;
	ion_heap_destroy(&p->heap);
	free(p->stack);
	free(p->frames);
	free(p->mbox);
	free(p->links);
	free(p->mons);
	free(p->trace);
	free(p->temp);
	free(p);
}

int ion_proc_push_root(struct ion_proc *p, ion_value v)
{
	if (p->ntemp == p->captemp) {
		uint32_t cap = p->captemp ? p->captemp * 2 : 16;
		ion_value *n = realloc(p->temp, cap * sizeof *n);
		if (!n)
			return -1;
		p->temp = n;
		p->captemp = cap;
	}
	p->temp[p->ntemp++] = v;
	return 0;
}

int ion_proc_reserve(struct ion_proc *p, uint32_t need)
{
	if (need <= p->stack_cap)
		return 0;
	if (need > (1u << 22))
		return -1; /* stack overflow: 32 MiB of registers */
	/* A fresh process gets just what its entry function needs (idle
	 * processes should stay small); growth then doubles. */
	uint32_t cap = p->stack_cap ? p->stack_cap * 2 : (need + 3) & ~3u;
	while (cap < need)
		cap *= 2;
	ion_value *s = realloc(p->stack, cap * sizeof *s);
	if (!s)
		return -1;
	for (uint32_t i = p->stack_cap; i < cap; i++)
		s[i] = ION_NIL;
	p->stack = s;
	p->stack_cap = cap;
	return 0;
}

int ion_proc_push_frame(struct ion_proc *p, struct ion_func *fn, struct ion_closure *cl,
			uint32_t base, uint16_t ret)
{
	if (p->nframes == p->frames_cap) {
		uint32_t cap = p->frames_cap ? p->frames_cap * 2 : 2;
		if (cap > ION_FRAMES_MAX)
			return -1;
		struct ion_frame *f = realloc(p->frames, cap * sizeof *f);
		if (!f)
			return -1;
		p->frames = f;
		p->frames_cap = cap;
	}
	if (ion_proc_reserve(p, base + fn->nregs))
		return -1;
	struct ion_frame *f = &p->frames[p->nframes++];
	f->fn = fn;
	f->cl = cl;
	f->pc = fn->code;
	f->base = base;
	f->ret = ret;
	f->flags = 0;
	return 0;
}

int ion_proc_mbox_push(struct ion_proc *p, ion_value v)
{
	if (p->mb_len == p->mb_cap) {
		uint32_t cap = p->mb_cap ? p->mb_cap * 2 : 4;
		ion_value *n = malloc(cap * sizeof *n);
		if (!n)
			return -1;
		for (uint32_t i = 0; i < p->mb_len; i++)
			n[i] = p->mbox[(p->mb_head + i) & (p->mb_cap - 1)];
		free(p->mbox);
		p->mbox = n;
		p->mb_cap = cap;
		p->mb_head = 0;
	}
	p->mbox[(p->mb_head + p->mb_len) & (p->mb_cap - 1)] = v;
	p->mb_len++;
	return 0;
}

int ion_proc_raise_value(struct ion_proc *p, ion_value v)
{
	p->reason = v;
	return ION_NATIVE_ERROR;
}

int ion_proc_raise(struct ion_proc *p, const char *kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct ion_vm *vm = p->vm;
	struct ion_atom *k = ion_atom_intern(&vm->atoms, kind, strlen(kind));
	p->heap.inhibit++;
	ion_value s = ion_gc_str(&p->heap, msg, strlen(msg));
	struct ion_tuple *t = s ? ion_tuple_new(&p->heap, 2) : NULL;
	p->heap.inhibit--;
	if (!t || !k) {
		p->reason = ion_atom_val(vm->a.nomem);
		return ION_NATIVE_ERROR;
	}
	t->items[0] = ion_atom_val(k);
	t->items[1] = s;
	p->reason = ion_box(ION_TAG_OBJ, t);
	return ION_NATIVE_ERROR;
}

static int pidvec_add(ion_value **v, uint32_t *n, uint32_t *cap, ion_value pid)
{
	for (uint32_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return 0;
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 2;
		ion_value *nv = realloc(*v, c * sizeof *nv);
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = pid;
	return 0;
}

int ion_proc_add_link(struct ion_proc *p, ion_value pid)
{
	return pidvec_add(&p->links, &p->nlinks, &p->caplinks, pid);
}

void ion_proc_remove_link(struct ion_proc *p, ion_value pid)
{
	for (uint32_t i = 0; i < p->nlinks; i++)
		if (p->links[i] == pid) {
			p->links[i] = p->links[--p->nlinks];
			return;
		}
}

int ion_proc_add_monitor(struct ion_proc *p, ion_value watcher, ion_value ref)
{
	if (p->nmons == p->capmons) {
		uint32_t c = p->capmons ? p->capmons * 2 : 2;
		struct ion_monitor *m = realloc(p->mons, c * sizeof *m);
		if (!m)
			return -1;
		p->mons = m;
		p->capmons = c;
	}
	p->mons[p->nmons++] = (struct ion_monitor){ watcher, ref };
	return 0;
}

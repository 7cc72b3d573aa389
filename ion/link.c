/* link.c - turning verified units into runnable classes: constants become
 * values (strings immortal, aggregates read-only templates), funcrefs and
 * natives are resolved by name once every class of a pack is loaded. */
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/func.h"
#include "ion/object.h"
#include "ion/unit.h"
#include "ion/vm.h"

struct ion_class *ion_vm_find_class(struct ion_vm *vm, const char *name, size_t len)
{
	for (uint32_t i = 0; i < vm->nclasses; i++)
		if (strlen(vm->classes[i]->name) == len && memcmp(vm->classes[i]->name, name, len) == 0)
			return vm->classes[i];
	return NULL;
}

struct ion_func *ion_class_func(struct ion_class *c, const char *name)
{
	for (uint32_t i = 0; i < c->nf; i++)
		if (strcmp(c->funcs[i].name, name) == 0)
			return &c->funcs[i];
	return NULL;
}

static void class_free(struct ion_class *c)
{
	if (!c)
		return;
	ion_heap_destroy(&c->templates);
	for (uint32_t i = 0; i < c->nstrs; i++)
		free(c->strs[i]);
	free(c->strs);
	if (c->mt)
		for (uint32_t i = 0; i < c->nk; i++)
			free(c->mt[i]);
	free(c->mt);
	free(c->K);
	free(c->KA);
	free(c->funcs);
	free(c->name);
	ion_unit_free(c->unit);
	free(c);
}

void ion_link_free_classes(struct ion_vm *vm)
{
	for (uint32_t i = 0; i < vm->nclasses; i++)
		class_free(vm->classes[i]);
	free(vm->classes);
	vm->classes = NULL;
	vm->nclasses = 0;
}

int ion_link_add_unit(struct ion_vm *vm, struct ion_unit *u)
{
	if (ion_vm_find_class(vm, u->name.s, u->name.len)) {
		ion_vm_fail(vm, ION_E_FORMAT, "class %s is defined twice", u->name.s);
		ion_unit_free(u);
		return ION_E_FORMAT;
	}
	struct ion_class *c = calloc(1, sizeof *c);
	struct ion_class **nc = realloc(vm->classes, (vm->nclasses + 1) * sizeof *nc);
	if (nc)
		vm->classes = nc;
	if (!c || !nc || !(c->name = strdup(u->name.s)) ||
	    !(c->funcs = calloc(u->nf, sizeof *c->funcs)) ||
	    !(c->K = calloc(u->nk + 1, sizeof *c->K)) || !(c->KA = calloc(u->nk + 1, sizeof *c->KA)) ||
	    !(c->mt = calloc(u->nk + 1, sizeof *c->mt))) {
		c->unit = u;
		class_free(c);
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory loading class %s", u->name.s);
	}
	c->unit = u;
	c->nk = u->nk;
	c->nf = u->nf;
	ion_heap_init(&c->templates, &vm->gc_epoch, NULL, NULL);
	for (uint32_t i = 0; i < u->nf; i++) {
		const struct ion_kfunc *k = &u->f[i];
		c->funcs[i] = (struct ion_func){ .cls = c, .name = k->name.s, .arity = k->arity,
			.nregs = k->nregs, .nup = k->nup, .upkind = k->upkind, .upidx = k->upidx,
			.ncode = k->ncode, .code = k->code, .K = c->K,
			.mt = (struct ion_mtable *const *)c->mt };
	}
	vm->classes[vm->nclasses++] = c;
	return 0;
}

/* ---- constants ---- */

struct linker {
	struct ion_vm *vm;
	struct ion_class *c;
};

static int lk_fail(struct linker *l, int code, const char *what, const struct ion_bytes *name)
{
	return ion_vm_fail(l->vm, code, "class %s: %s '%s'", l->c->name, what, name ? name->s : "");
}

static int add_immortal(struct ion_class *c, struct ion_str *s)
{
	if (c->nstrs == c->capstrs) {
		uint32_t cap = c->capstrs ? c->capstrs * 2 : 8;
		struct ion_str **n = realloc(c->strs, cap * sizeof *n);
		if (!n)
			return -1;
		c->strs = n;
		c->capstrs = cap;
	}
	s->refs = ION_STR_IMMORTAL;
	c->strs[c->nstrs++] = s;
	return 0;
}

static int const_value(struct linker *l, const struct ion_kconst *k, ion_value *out);

static int aggregate(struct linker *l, const struct ion_kconst *k, ion_value *out)
{
	struct ion_heap *h = &l->c->templates;
	struct ion_gcobj *g;
	if (k->kind == ION_K_TUPLE) {
		struct ion_tuple *t = ion_tuple_new(h, k->n);
		if (!t)
			goto nomem;
		g = &t->h;
		for (uint32_t i = 0; i < k->n; i++)
			if (const_value(l, &k->items[i], &t->items[i]))
				return -1;
	} else if (k->kind == ION_K_ARRAY) {
		struct ion_array *a = ion_array_new(h, k->n);
		if (!a)
			goto nomem;
		g = &a->h;
		for (uint32_t i = 0; i < k->n; i++)
			if (const_value(l, &k->items[i], &a->items[a->h.len++]))
				return -1;
	} else {
		struct ion_object *o = ion_object_new(h);
		if (!o)
			goto nomem;
		g = &o->h;
		if (k->s.len && !(o->type = ion_atom_intern(&l->vm->atoms, k->s.s, k->s.len)))
			goto nomem;
		for (uint32_t i = 0; i < k->n; i++) {
			ion_value v;
			struct ion_atom *key = ion_atom_intern(&l->vm->atoms, k->props[i].key.s,
							       k->props[i].key.len);
			if (const_value(l, &k->items[i], &v))
				return -1;
			if (!key || ion_obj_define(h, o, key, v, k->props[i].flags))
				goto nomem;
		}
	}
	g->flags |= ION_OF_STATIC;
	*out = ion_box(ION_TAG_OBJ, g);
	return 0;
nomem:
	return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory linking class %s", l->c->name);
}

static int funcref(struct linker *l, const struct ion_kconst *k, ion_value *out)
{
	struct ion_class *target = k->s.len ? ion_vm_find_class(l->vm, k->s.s, k->s.len) : l->c;
	if (!target)
		return lk_fail(l, ION_E_LINK, "funcref to unknown class", &k->s);
	struct ion_func *fn = ion_class_func(target, k->s2.s);
	if (!fn)
		return ion_vm_fail(l->vm, ION_E_LINK, "class %s: funcref to unknown function %s.%s",
				   l->c->name, target->name, k->s2.s);
	if (fn->nup && target != l->c)
		return ion_vm_fail(l->vm, ION_E_LINK, "class %s: %s.%s needs a closure",
				   l->c->name, target->name, k->s2.s);
	*out = ion_box(ION_TAG_FUNC, fn);
	return 0;
}

static int const_value(struct linker *l, const struct ion_kconst *k, ion_value *out)
{
	switch (k->kind) {
	case ION_K_NIL: *out = ION_NIL; return 0;
	case ION_K_FALSE: *out = ION_FALSE; return 0;
	case ION_K_TRUE: *out = ION_TRUE; return 0;
	case ION_K_NUMBER: *out = ion_from_num_canon(k->num); return 0;
	case ION_K_STRING: {
		struct ion_str *s = ion_str_new(k->s.s, k->s.len);
		if (!s || add_immortal(l->c, s)) {
			free(s);
			return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory");
		}
		*out = ion_box(ION_TAG_STR, s);
		return 0;
	}
	case ION_K_ATOM: {
		struct ion_atom *a = ion_atom_intern(&l->vm->atoms, k->s.s, k->s.len);
		if (!a)
			return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory");
		*out = ion_atom_val(a);
		return 0;
	}
	case ION_K_COMPLEX: {
		struct ion_complex *c = ion_complex_new(&l->c->templates, k->num, k->im);
		if (!c)
			return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory");
		c->h.flags |= ION_OF_STATIC;
		*out = ion_box(ION_TAG_OBJ, c);
		return 0;
	}
	case ION_K_TUPLE: case ION_K_ARRAY: case ION_K_OBJECT: return aggregate(l, k, out);
	case ION_K_FUNCREF: return funcref(l, k, out);
	case ION_K_NATIVE: {
		const struct ion_native *n = ion_ffi_find(l->vm, k->s.s, k->s.len);
		if (!n)
			return lk_fail(l, ION_E_LINK, "unknown native", &k->s);
		*out = ion_box(ION_TAG_NATIVE, n);
		return 0;
	}
	default:
		*out = ION_NIL;
		return 0;
	}
}

static int pattern(struct linker *l, const struct ion_kpat *k, struct ion_pat *p)
{
	p->tag = k->tag;
	p->reg = k->reg;
	p->n = k->n;
	if (k->tag == ION_PAT_LIT)
		return const_value(l, k->lit, &p->lit);
	if (k->n) {
		p->items = ion_unit_alloc(l->c->unit, k->n * sizeof *p->items);
		if (!p->items)
			return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory");
		for (uint16_t i = 0; i < k->n; i++)
			if (pattern(l, &k->items[i], &p->items[i]))
				return -1;
	}
	return 0;
}

static int match_table(struct linker *l, uint32_t idx, const struct ion_kconst *k)
{
	struct ion_mtable *mt = calloc(1, sizeof *mt + k->n * sizeof(struct ion_pat));
	if (!mt)
		return ion_vm_fail(l->vm, ION_E_NOMEM, "out of memory");
	l->c->mt[idx] = mt;
	mt->narms = k->n;
	mt->pats = (struct ion_pat *)(mt + 1);
	mt->targets = k->targets;
	for (uint32_t i = 0; i < k->n; i++)
		if (pattern(l, &k->pats[i], &mt->pats[i]))
			return -1;
	return 0;
}

static int link_class(struct ion_vm *vm, struct ion_class *c)
{
	struct linker l = { vm, c };
	const struct ion_unit *u = c->unit;
	for (uint32_t i = 0; i < u->nk; i++) {
		const struct ion_kconst *k = &u->k[i];
		int rc = k->kind == ION_K_MATCH ? match_table(&l, i, k) : const_value(&l, k, &c->K[i]);
		if (rc)
			return rc;
		if ((k->kind == ION_K_STRING || k->kind == ION_K_ATOM) && k->s.len && k->s.len <= 255 &&
		    !(c->KA[i] = ion_atom_intern(&vm->atoms, k->s.s, k->s.len)))
			return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	}
	c->linked = 1;
	return 0;
}

int ion_link_all(struct ion_vm *vm)
{
	for (uint32_t i = 0; i < vm->nclasses; i++) {
		if (vm->classes[i]->linked)
			continue;
		int rc = link_class(vm, vm->classes[i]);
		if (rc)
			return rc < 0 ? rc : ION_E_LINK;
	}
	return 0;
}

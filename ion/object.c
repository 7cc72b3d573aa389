/* object.c - construction of heap objects and the property table. */
#include <stdlib.h>

#include "ion/gc.h"
#include "ion/object.h"
#include "ion/str.h"

struct ion_tuple *ion_tuple_new(struct ion_heap *h, uint32_t n)
{
	struct ion_tuple *t = ion_gc_alloc(h, sizeof *t + n * sizeof(ion_value), ION_O_TUPLE);
	if (!t)
		return NULL;
	t->h.len = n;
	for (uint32_t i = 0; i < n; i++)
		t->items[i] = ION_NIL;
	return t;
}

struct ion_array *ion_array_new(struct ion_heap *h, uint32_t cap)
{
	ion_value *items = NULL;
	if (cap) {
		items = malloc(cap * sizeof *items);
		if (!items)
			return NULL;
	}
	struct ion_array *a = ion_gc_alloc(h, sizeof *a, ION_O_ARRAY);
	if (!a) {
		free(items);
		return NULL;
	}
	a->cap = cap;
	a->items = items;
	ion_gc_account(h, cap * sizeof *items);
	return a;
}

int ion_array_push(struct ion_heap *h, struct ion_array *a, ion_value v)
{
	if (a->h.len == a->cap) {
		if (a->cap >= (1u << 30))
			return ION_OBJ_NOMEM;
		uint32_t ncap = a->cap ? a->cap * 2 : 4;
		ion_value *n = realloc(a->items, ncap * sizeof *n);
		if (!n)
			return ION_OBJ_NOMEM;
		ion_gc_account(h, (ncap - a->cap) * sizeof *n);
		a->items = n;
		a->cap = ncap;
	}
	a->items[a->h.len++] = v;
	return ION_OBJ_OK;
}

struct ion_object *ion_object_new(struct ion_heap *h)
{
	struct ion_object *o = ion_gc_alloc(h, sizeof *o, ION_O_OBJECT);
	if (!o)
		return NULL;
	o->proto = ION_NIL;
	o->type = NULL;
	o->cap = o->icap = 0;
	o->props = NULL;
	o->index = NULL;
	return o;
}

struct ion_complex *ion_complex_new(struct ion_heap *h, double re, double im)
{
	struct ion_complex *c = ion_gc_alloc(h, sizeof *c, ION_O_COMPLEX);
	if (c) {
		c->re = re;
		c->im = im;
	}
	return c;
}

struct ion_buffer *ion_buffer_new(struct ion_heap *h, size_t size)
{
	if (size > ION_BUFFER_MAX)
		return NULL;
	uint8_t *data = calloc(size ? size : 1, 1);
	if (!data)
		return NULL;
	struct ion_buffer *b = ion_gc_alloc(h, sizeof *b, ION_O_BUFFER);
	if (!b) {
		free(data);
		return NULL;
	}
	b->size = size;
	b->data = data;
	ion_gc_account(h, size);
	return b;
}

struct ion_buffer *ion_buffer_external(struct ion_heap *h, void *data, size_t size)
{
	struct ion_buffer *b = ion_gc_alloc(h, sizeof *b, ION_O_BUFFER);
	if (!b)
		return NULL;
	b->h.flags = ION_OF_EXTERNAL;
	b->size = size;
	b->data = data;
	return b;
}

struct ion_closure *ion_closure_new(struct ion_heap *h, struct ion_func *fn, uint32_t nup)
{
	struct ion_closure *c = ion_gc_alloc(h, sizeof *c + nup * sizeof(ion_value), ION_O_CLOSURE);
	if (!c)
		return NULL;
	c->fn = fn;
	c->h.len = nup;
	for (uint32_t i = 0; i < nup; i++)
		c->up[i] = ION_NIL;
	return c;
}

/* ---- property table ---- */

static uint32_t key_slot(const struct ion_atom *key, uint32_t icap)
{
	return (key->hash * 0x9E3779B1u) & (icap - 1);
}

static int index_rebuild(struct ion_object *o, uint32_t icap)
{
	uint32_t *idx = calloc(icap, sizeof *idx);
	if (!idx)
		return ION_OBJ_NOMEM;
	for (uint32_t i = 0; i < o->h.len; i++) {
		uint32_t s = key_slot(o->props[i].key, icap);
		while (idx[s])
			s = (s + 1) & (icap - 1);
		idx[s] = i + 1;
	}
	free(o->index);
	o->index = idx;
	o->icap = icap;
	return ION_OBJ_OK;
}

struct ion_prop *ion_obj_own(const struct ion_object *o, const struct ion_atom *key)
{
	if (!o->index) {
		for (uint32_t i = 0; i < o->h.len; i++)
			if (o->props[i].key == key)
				return &o->props[i];
		return NULL;
	}
	for (uint32_t s = key_slot(key, o->icap);; s = (s + 1) & (o->icap - 1)) {
		uint32_t p = o->index[s];
		if (!p)
			return NULL;
		if (o->props[p - 1].key == key)
			return &o->props[p - 1];
	}
}

struct ion_prop *ion_obj_lookup(const struct ion_object *o, const struct ion_atom *key)
{
	for (int depth = 0; depth < ION_PROTO_MAX; depth++) {
		struct ion_prop *p = ion_obj_own(o, key);
		if (p)
			return p;
		if (!ion_is_obj(o->proto))
			return NULL;
		o = (const struct ion_object *)ion_as_obj(o->proto);
	}
	return NULL;
}

static int prop_append(struct ion_heap *h, struct ion_object *o, struct ion_atom *key,
		       ion_value v, uint32_t flags)
{
	if (o->h.len == o->cap) {
		uint32_t ncap = o->cap ? o->cap * 2 : 4;
		struct ion_prop *n = realloc(o->props, ncap * sizeof *n);
		if (!n)
			return ION_OBJ_NOMEM;
		ion_gc_account(h, (ncap - o->cap) * sizeof *n);
		o->props = n;
		o->cap = ncap;
	}
	o->props[o->h.len++] = (struct ion_prop){ key, v, flags };
	if (o->h.len > ION_OBJ_LINEAR && o->h.len * 2 > o->icap) {
		uint32_t icap = o->icap ? o->icap * 2 : 32;
		if (index_rebuild(o, icap)) {
			o->h.len--;
			return ION_OBJ_NOMEM;
		}
		ion_gc_account(h, icap * sizeof(uint32_t));
	} else if (o->index) {
		uint32_t s = key_slot(key, o->icap);
		while (o->index[s])
			s = (s + 1) & (o->icap - 1);
		o->index[s] = o->h.len;
	}
	return ION_OBJ_OK;
}

int ion_obj_set(struct ion_heap *h, struct ion_object *o, struct ion_atom *key, ion_value v)
{
	struct ion_prop *p = ion_obj_own(o, key);
	if (p) {
		if (!(p->flags & ION_P_WRITABLE))
			return ION_OBJ_READONLY;
		p->val = v;
		return ION_OBJ_OK;
	}
	if (o->h.flags & ION_OF_FROZEN)
		return ION_OBJ_FROZEN;
	return prop_append(h, o, key, v, ION_P_ALL);
}

int ion_obj_define(struct ion_heap *h, struct ion_object *o, struct ion_atom *key,
		   ion_value v, uint32_t flags)
{
	struct ion_prop *p = ion_obj_own(o, key);
	if (p) {
		if (!(p->flags & ION_P_CONFIGURABLE))
			return ION_OBJ_NOTCONFIG;
		p->val = v;
		p->flags = flags;
		return ION_OBJ_OK;
	}
	if (o->h.flags & ION_OF_FROZEN)
		return ION_OBJ_FROZEN;
	return prop_append(h, o, key, v, flags);
}

int ion_obj_delete(struct ion_object *o, const struct ion_atom *key)
{
	struct ion_prop *p = ion_obj_own(o, key);
	if (!p)
		return ION_OBJ_OK;
	if (!(p->flags & ION_P_CONFIGURABLE))
		return ION_OBJ_NOTCONFIG;
	uint32_t i = (uint32_t)(p - o->props);
	memmove(&o->props[i], &o->props[i + 1], (o->h.len - i - 1) * sizeof *p);
	o->h.len--;
	if (o->index && index_rebuild(o, o->icap)) {
		/* Without an index the linear scan is still correct. */
		free(o->index);
		o->index = NULL;
		o->icap = 0;
	}
	return ION_OBJ_OK;
}

int ion_obj_set_proto(struct ion_object *o, ion_value proto)
{
	if (proto == ION_NIL) {
		o->proto = proto;
		return ION_OBJ_OK;
	}
	int depth = 1;
	for (ion_value p = proto; ion_is_obj(p); depth++) {
		const struct ion_object *po = (const struct ion_object *)ion_as_obj(p);
		if (po == o || depth >= ION_PROTO_MAX)
			return ION_OBJ_CYCLE;
		p = po->proto;
	}
	o->proto = proto;
	return ION_OBJ_OK;
}

size_t ion_obj_release(struct ion_gcobj *g)
{
	switch (g->type) {
	case ION_O_ARRAY: {
		struct ion_array *a = (struct ion_array *)g;
		size_t n = a->cap * sizeof(ion_value);
		free(a->items);
		return n;
	}
	case ION_O_OBJECT: {
		struct ion_object *o = (struct ion_object *)g;
		size_t n = o->cap * sizeof(struct ion_prop) + o->icap * sizeof(uint32_t);
		free(o->props);
		free(o->index);
		return n;
	}
	case ION_O_BUFFER: {
		struct ion_buffer *b = (struct ion_buffer *)g;
		if (g->flags & ION_OF_EXTERNAL)
			return 0; /* the embedder's storage: not ours to free */
		free(b->data);
		return b->size;
	}
	default:
		return 0;
	}
}

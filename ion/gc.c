/* gc.c - mark-sweep collection of one process heap, and deep copy. */
#include <stdlib.h>

#include "ion/func.h"
#include "ion/gc.h"
#include "ion/str.h"

struct ion_gc_marker {
	struct ion_heap *h;
	struct ion_gcobj **stack;
	size_t n, cap;
	uint32_t epoch;
};

void ion_heap_init(struct ion_heap *h, uint32_t *epoch, ion_gc_roots_fn roots, void *ctx)
{
	memset(h, 0, sizeof *h);
	h->threshold = ION_HEAP_MIN;
	h->epoch = epoch;
	h->roots = roots;
	h->roots_ctx = ctx;
}

static size_t obj_size(const struct ion_gcobj *o)
{
	switch (o->type) {
	case ION_O_TUPLE: return sizeof(struct ion_tuple) + o->len * sizeof(ion_value);
	case ION_O_ARRAY: return sizeof(struct ion_array);
	case ION_O_OBJECT: return sizeof(struct ion_object);
	case ION_O_CLOSURE: return sizeof(struct ion_closure) + o->len * sizeof(ion_value);
	case ION_O_BUFFER: return sizeof(struct ion_buffer);
	default: return sizeof(struct ion_complex);
	}
}

static void free_obj(struct ion_heap *h, struct ion_gcobj *o)
{
	size_t n = obj_size(o) + ion_obj_release(o);
	h->bytes = h->bytes > n ? h->bytes - n : 0;
	free(o);
}

void ion_heap_destroy(struct ion_heap *h)
{
	struct ion_gcobj *o = h->objs;
	while (o) {
		struct ion_gcobj *n = o->next;
		free_obj(h, o);
		o = n;
	}
	h->objs = NULL;
	for (uint32_t i = 0; i < h->nstrs; i++)
		ion_str_decref(h->strs[i]);
	free(h->strs);
	h->strs = NULL;
	h->nstrs = h->capstrs = 0;
	h->bytes = 0;
}

static void maybe_collect(struct ion_heap *h)
{
#ifdef ION_GC_STRESS
	if (!h->inhibit && h->roots)
		ion_gc_collect(h);
#else
	if (h->bytes > h->threshold && !h->inhibit && h->roots)
		ion_gc_collect(h);
#endif
}

void *ion_gc_alloc(struct ion_heap *h, size_t size, enum ion_otype type)
{
	maybe_collect(h);
	struct ion_gcobj *o = malloc(size);
	if (!o)
		return NULL;
	o->next = h->objs;
	o->type = (uint8_t)type;
	o->mark = 0;
	o->flags = 0;
	o->pad = 0;
	o->len = 0;
	h->objs = o;
	h->bytes += size;
	return o;
}

int ion_gc_adopt_str(struct ion_heap *h, struct ion_str *s)
{
	if (s->refs == ION_STR_IMMORTAL)
		return 0;
	if (h->nstrs == h->capstrs) {
		uint32_t ncap = h->capstrs ? h->capstrs * 2 : 8;
		struct ion_str **n = realloc(h->strs, ncap * sizeof *n);
		if (!n) {
			ion_str_decref(s);
			return -1;
		}
		h->strs = n;
		h->capstrs = ncap;
	}
	h->strs[h->nstrs++] = s;
	h->bytes += sizeof(struct ion_str) + s->len + sizeof(void *);
	return 0;
}

ion_value ion_gc_str(struct ion_heap *h, const char *data, size_t len)
{
	maybe_collect(h);
	struct ion_str *s = ion_str_new(data, len);
	if (!s || ion_gc_adopt_str(h, s))
		return 0;
	return ion_box(ION_TAG_STR, s);
}

/* ---- marking ---- */

static void mark_obj(struct ion_gc_marker *m, struct ion_gcobj *o);

void ion_gc_mark(struct ion_gc_marker *m, ion_value v)
{
	if (ion_is_obj(v)) {
		struct ion_gcobj *o = ion_as_obj(v);
		if (o->mark || (o->flags & ION_OF_STATIC))
			return;
		o->mark = 1;
		if (o->type == ION_O_COMPLEX || o->type == ION_O_BUFFER)
			return; /* no values inside */
		if (m->n == m->cap) {
			size_t ncap = m->cap ? m->cap * 2 : 64;
			struct ion_gcobj **ns = realloc(m->stack, ncap * sizeof *ns);
			if (!ns) {
				mark_obj(m, o); /* no room: recurse on the C stack instead */
				return;
			}
			m->stack = ns;
			m->cap = ncap;
		}
		m->stack[m->n++] = o;
	} else if (ion_is_str(v)) {
		ion_as_str(v)->mark = m->epoch;
	}
}

static void mark_obj(struct ion_gc_marker *m, struct ion_gcobj *o)
{
	switch (o->type) {
	case ION_O_TUPLE:
		for (uint32_t i = 0; i < o->len; i++)
			ion_gc_mark(m, ((struct ion_tuple *)o)->items[i]);
		break;
	case ION_O_ARRAY:
		for (uint32_t i = 0; i < o->len; i++)
			ion_gc_mark(m, ((struct ion_array *)o)->items[i]);
		break;
	case ION_O_OBJECT: {
		struct ion_object *ob = (struct ion_object *)o;
		ion_gc_mark(m, ob->proto);
		for (uint32_t i = 0; i < o->len; i++)
			ion_gc_mark(m, ob->props[i].val);
		break;
	}
	case ION_O_CLOSURE:
		for (uint32_t i = 0; i < o->len; i++)
			ion_gc_mark(m, ((struct ion_closure *)o)->up[i]);
		break;
	default:
		break;
	}
}

static void sweep(struct ion_heap *h, uint32_t epoch)
{
	struct ion_gcobj **link = &h->objs;
	while (*link) {
		struct ion_gcobj *o = *link;
		if (o->mark) {
			o->mark = 0;
			link = &o->next;
		} else {
			*link = o->next;
			free_obj(h, o);
		}
	}
	uint32_t keep = 0;
	for (uint32_t i = 0; i < h->nstrs; i++) {
		struct ion_str *s = h->strs[i];
		if (s->mark == epoch) {
			h->strs[keep++] = s;
		} else {
			size_t n = sizeof(struct ion_str) + s->len + sizeof(void *);
			h->bytes = h->bytes > n ? h->bytes - n : 0;
			ion_str_decref(s);
		}
	}
	h->nstrs = keep;
}

void ion_gc_collect(struct ion_heap *h)
{
	if (!h->roots)
		return;
	struct ion_gc_marker m = { .h = h, .epoch = ++*h->epoch };
	if (m.epoch == 0) /* 0 is what fresh strings carry; never use it as live */
		m.epoch = ++*h->epoch;
	h->roots(h->roots_ctx, &m);
	while (m.n)
		mark_obj(&m, m.stack[--m.n]);
	free(m.stack);
	sweep(h, m.epoch);
	h->collections++;
	h->threshold = h->bytes * 2 > ION_HEAP_MIN ? h->bytes * 2 : ION_HEAP_MIN;
}

/* ---- deep copy ---- */

/* Source object -> its copy, so shared parts stay shared and cycles end.
 * Small copies (the common message) use the inline table and never touch
 * the allocator; larger ones move to an open-addressing table. */
#define COPY_INLINE 8
struct copy_map {
	struct ion_gcobj *ifrom[COPY_INLINE], *ito[COPY_INLINE];
	struct ion_gcobj **from, **to;
	size_t cap, n;
	int depth;
};

#define COPY_DEPTH_MAX 10000

static size_t slot_of(const struct ion_gcobj *k, size_t cap)
{
	return (size_t)(((uintptr_t)k >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static struct ion_gcobj *map_get(struct copy_map *cm, struct ion_gcobj *k)
{
	if (!cm->cap) {
		for (size_t i = 0; i < cm->n; i++)
			if (cm->ifrom[i] == k)
				return cm->ito[i];
		return NULL;
	}
	for (size_t i = slot_of(k, cm->cap); cm->from[i]; i = (i + 1) & (cm->cap - 1))
		if (cm->from[i] == k)
			return cm->to[i];
	return NULL;
}

static void map_insert(struct copy_map *cm, struct ion_gcobj *k, struct ion_gcobj *v)
{
	size_t i = slot_of(k, cm->cap);
	while (cm->from[i])
		i = (i + 1) & (cm->cap - 1);
	cm->from[i] = k;
	cm->to[i] = v;
	cm->n++;
}

static int map_put(struct copy_map *cm, struct ion_gcobj *k, struct ion_gcobj *v)
{
	if (!cm->cap && cm->n < COPY_INLINE) {
		cm->ifrom[cm->n] = k;
		cm->ito[cm->n++] = v;
		return 0;
	}
	if ((cm->n + 1) * 2 > cm->cap) {
		size_t ncap = cm->cap ? cm->cap * 2 : 4 * COPY_INLINE;
		struct ion_gcobj **f = calloc(ncap, sizeof *f), **t = calloc(ncap, sizeof *t);
		if (!f || !t) {
			free(f);
			free(t);
			return -1;
		}
		struct ion_gcobj **of = cm->cap ? cm->from : cm->ifrom, **ot = cm->cap ? cm->to : cm->ito;
		size_t ocap = cm->cap ? cm->cap : cm->n;
		cm->from = f;
		cm->to = t;
		cm->cap = ncap;
		cm->n = 0;
		for (size_t i = 0; i < ocap; i++)
			if (of[i])
				map_insert(cm, of[i], ot[i]);
		if (of != cm->ifrom) {
			free(of);
			free(ot);
		}
	}
	map_insert(cm, k, v);
	return 0;
}

static int copy_val(struct ion_heap *dst, struct copy_map *cm, ion_value v, ion_value *out);

static int copy_items(struct ion_heap *dst, struct copy_map *cm, const ion_value *src,
		      ion_value *to, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (copy_val(dst, cm, src[i], &to[i]))
			return -1;
	return 0;
}

static struct ion_gcobj *copy_shell(struct ion_heap *dst, struct ion_gcobj *o)
{
	switch (o->type) {
	case ION_O_TUPLE: return &ion_tuple_new(dst, o->len)->h;
	case ION_O_ARRAY: return &ion_array_new(dst, o->len)->h;
	case ION_O_OBJECT: return &ion_object_new(dst)->h;
	case ION_O_CLOSURE:
		return &ion_closure_new(dst, ((struct ion_closure *)o)->fn, o->len)->h;
	case ION_O_BUFFER: {
		/* External storage is shared by every copy (it is the point of
		 * it); owned bytes are copied like any other value. */
		struct ion_buffer *b = (struct ion_buffer *)o, *n;
		if (o->flags & ION_OF_EXTERNAL)
			return &ion_buffer_external(dst, b->data, b->size)->h;
		n = ion_buffer_new(dst, b->size);
		if (!n)
			return NULL;
		memcpy(n->data, b->data, b->size);
		return &n->h;
	}
	default: {
		struct ion_complex *c = (struct ion_complex *)o;
		return &ion_complex_new(dst, c->re, c->im)->h;
	}
	}
}

static int copy_body(struct ion_heap *dst, struct copy_map *cm, struct ion_gcobj *o,
		     struct ion_gcobj *n)
{
	switch (o->type) {
	case ION_O_TUPLE:
		return copy_items(dst, cm, ((struct ion_tuple *)o)->items,
				  ((struct ion_tuple *)n)->items, o->len);
	case ION_O_ARRAY:
		n->len = o->len;
		for (uint32_t i = 0; i < o->len; i++)
			((struct ion_array *)n)->items[i] = ION_NIL;
		return copy_items(dst, cm, ((struct ion_array *)o)->items,
				  ((struct ion_array *)n)->items, o->len);
	case ION_O_CLOSURE:
		return copy_items(dst, cm, ((struct ion_closure *)o)->up,
				  ((struct ion_closure *)n)->up, o->len);
	case ION_O_OBJECT: {
		struct ion_object *so = (struct ion_object *)o, *no = (struct ion_object *)n;
		no->type = so->type;
		no->h.flags = so->h.flags & ION_OF_FROZEN;
		if (copy_val(dst, cm, so->proto, &no->proto))
			return -1;
		for (uint32_t i = 0; i < o->len; i++) {
			ion_value v;
			if (copy_val(dst, cm, so->props[i].val, &v))
				return -1;
			/* define ignores FROZEN for a fresh copy: clear it meanwhile */
			uint8_t fl = no->h.flags;
			no->h.flags = 0;
			int rc = ion_obj_define(dst, no, so->props[i].key, v, so->props[i].flags);
			no->h.flags = fl;
			if (rc)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static int copy_val(struct ion_heap *dst, struct copy_map *cm, ion_value v, ion_value *out)
{
	if (ion_is_str(v)) {
		struct ion_str *s = ion_as_str(v);
		ion_str_incref(s);
		if (ion_gc_adopt_str(dst, s))
			return -1;
		*out = v;
		return 0;
	}
	if (!ion_is_obj(v)) {
		*out = v;
		return 0;
	}
	struct ion_gcobj *o = ion_as_obj(v), *n = map_get(cm, o);
	if (n) {
		*out = ion_box(ION_TAG_OBJ, n);
		return 0;
	}
	if (++cm->depth > COPY_DEPTH_MAX)
		return -1;
	n = copy_shell(dst, o);
	if (!n || map_put(cm, o, n) || copy_body(dst, cm, o, n))
		return -1;
	cm->depth--;
	*out = ion_box(ION_TAG_OBJ, n);
	return 0;
}

int ion_gc_copy(struct ion_heap *dst, ion_value v, ion_value *out)
{
	if (!ion_is_obj(v) && !ion_is_str(v)) {
		*out = v;
		return 0;
	}
	/* A process that only receives never allocates by itself: give its
	 * heap the chance to collect here. The receiver is suspended at a safe
	 * point (or is the sender, whose message is in a register). */
	if (!dst->inhibit)
		maybe_collect(dst);
	struct copy_map cm;
	cm.from = cm.to = NULL;
	cm.cap = cm.n = 0;
	cm.depth = 0;
	dst->inhibit++;
	int rc = copy_val(dst, &cm, v, out);
	dst->inhibit--;
	free(cm.from);
	free(cm.to);
	return rc;
}

/* object.h - heap objects of a process: tuples, arrays, prototype objects,
 * closures, complex numbers and byte buffers.
 *
 * Every heap object starts with struct ion_gcobj and lives in exactly one
 * heap (gc.h), except templates (ION_OF_STATIC) owned by a loaded class,
 * which are read-only and copied into a process heap before use.
 */
#ifndef ION_OBJECT_H
#define ION_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "ion/value.h"

struct ion_heap;

enum ion_otype { ION_O_TUPLE, ION_O_ARRAY, ION_O_OBJECT, ION_O_CLOSURE, ION_O_COMPLEX,
		 ION_O_BUFFER };

enum ion_oflags {
	ION_OF_STATIC = 1, /* class-owned template: never collected, never mutated */
	ION_OF_FROZEN = 2, /* object: no new properties */
	ION_OF_EXTERNAL = 4 /* buffer: the storage belongs to the embedder, never freed */
};

enum ion_prop_flags { ION_P_WRITABLE = 1, ION_P_ENUMERABLE = 2, ION_P_CONFIGURABLE = 4, ION_P_ALL = 7 };

struct ion_gcobj {
	struct ion_gcobj *next; /* the heap's list of all its objects */
	uint8_t type;           /* enum ion_otype */
	uint8_t mark;
	uint8_t flags;          /* enum ion_oflags */
	uint8_t pad;
	uint32_t len;           /* tuple/array length, object property count, closure upvalues */
};

struct ion_tuple {
	struct ion_gcobj h;
	ion_value items[];
};

struct ion_array {
	struct ion_gcobj h;
	uint32_t cap;
	ion_value *items;
};

struct ion_complex {
	struct ion_gcobj h;
	double re, im;
};

/* A mutable byte buffer. Owned storage is malloc'd and freed with the
 * buffer; external storage (ION_OF_EXTERNAL, e.g. a shared-memory mapping)
 * outlives the VM by the embedder's promise, and a copy of such a buffer
 * into another heap is another view of the same bytes. */
#define ION_BUFFER_MAX ((size_t)1 << 40)
struct ion_buffer {
	struct ion_gcobj h;
	size_t size;
	uint8_t *data;
};

struct ion_closure {
	struct ion_gcobj h;
	struct ion_func *fn;
	ion_value up[];
};

struct ion_prop {
	struct ion_atom *key;
	ion_value val;
	uint32_t flags; /* enum ion_prop_flags */
};

/* Properties are kept in definition order; objects with more than
 * ION_OBJ_LINEAR properties also get an open-addressing index into props. */
#define ION_OBJ_LINEAR 8
struct ion_object {
	struct ion_gcobj h;
	ion_value proto;       /* an object value or nil */
	struct ion_atom *type; /* optional type name */
	uint32_t cap;
	uint32_t icap;         /* index slots, power of two, 0 = no index */
	struct ion_prop *props;
	uint32_t *index;       /* slot -> prop position + 1, 0 = empty */
};

/* The longest prototype chain walked; set_proto refuses longer or cyclic chains. */
#define ION_PROTO_MAX 64

enum ion_obj_err { ION_OBJ_OK = 0, ION_OBJ_NOMEM = -1, ION_OBJ_READONLY = -2,
		   ION_OBJ_FROZEN = -3, ION_OBJ_NOTCONFIG = -4, ION_OBJ_CYCLE = -5 };

static inline enum ion_otype ion_otype_of(ion_value v) { return ion_as_obj(v)->type; }
static inline bool ion_is_otype(ion_value v, enum ion_otype t)
{
	return ion_is_obj(v) && ion_as_obj(v)->type == t;
}

struct ion_tuple *ion_tuple_new(struct ion_heap *h, uint32_t n);
struct ion_array *ion_array_new(struct ion_heap *h, uint32_t cap);
int ion_array_push(struct ion_heap *h, struct ion_array *a, ion_value v);
struct ion_object *ion_object_new(struct ion_heap *h);
struct ion_complex *ion_complex_new(struct ion_heap *h, double re, double im);
/* Owned and zero-filled; size at most ION_BUFFER_MAX. */
struct ion_buffer *ion_buffer_new(struct ion_heap *h, size_t size);
struct ion_buffer *ion_buffer_external(struct ion_heap *h, void *data, size_t size);
struct ion_closure *ion_closure_new(struct ion_heap *h, struct ion_func *fn, uint32_t nup);

struct ion_prop *ion_obj_own(const struct ion_object *o, const struct ion_atom *key);
/* Own property or the first one up the chain; NULL when absent. */
struct ion_prop *ion_obj_lookup(const struct ion_object *o, const struct ion_atom *key);
/* Assignment: updates a writable own property or adds one (flags ION_P_ALL). */
int ion_obj_set(struct ion_heap *h, struct ion_object *o, struct ion_atom *key, ion_value v);
/* Definition with explicit flags; an existing property must be configurable. */
int ion_obj_define(struct ion_heap *h, struct ion_object *o, struct ion_atom *key,
		   ion_value v, uint32_t flags);
int ion_obj_delete(struct ion_object *o, const struct ion_atom *key);
int ion_obj_set_proto(struct ion_object *o, ion_value proto);

/* Releases the buffers an object owns (not the object itself); returns bytes freed. */
size_t ion_obj_release(struct ion_gcobj *o);

#endif

/* gc.h - one process's heap: allocation, mark-sweep collection, and the
 * deep copy that moves values between heaps (messages, spawn arguments).
 *
 * The collector is non-moving, so a pointer into a register file or an
 * object stays valid across a collection; only values reachable from the
 * roots the owner reports survive. While `inhibit` is non-zero no collection
 * starts: code that holds new, not yet rooted objects in C locals (deep copy,
 * natives building results) raises it.
 */
#ifndef ION_GC_H
#define ION_GC_H

#include <stddef.h>
#include <stdint.h>

#include "ion/object.h"

struct ion_str;
struct ion_gc_marker;
typedef void (*ion_gc_roots_fn)(void *ctx, struct ion_gc_marker *m);

struct ion_heap {
	struct ion_gcobj *objs;
	size_t bytes;      /* objects, their buffers and adopted strings */
	size_t threshold;  /* collect when bytes exceed this */
	struct ion_str **strs; /* one counted reference per entry */
	uint32_t nstrs, capstrs;
	uint32_t inhibit;
	uint32_t *epoch;   /* the VM's collection counter: string marks */
	ion_gc_roots_fn roots;
	void *roots_ctx;
	uint64_t collections;
};

#define ION_HEAP_MIN 16384

void ion_heap_init(struct ion_heap *h, uint32_t *epoch, ion_gc_roots_fn roots, void *ctx);
/* Frees every object and drops every string reference. */
void ion_heap_destroy(struct ion_heap *h);

/* A new object linked into the heap (may collect first); NULL when out of memory. */
void *ion_gc_alloc(struct ion_heap *h, size_t size, enum ion_otype type);
static inline void ion_gc_account(struct ion_heap *h, size_t n) { h->bytes += n; }
/* Takes over one reference of s; on failure the reference is dropped and -1 returned. */
int ion_gc_adopt_str(struct ion_heap *h, struct ion_str *s);
/* A new string owned by the heap, as a value; ION_NIL... never: returns 0 on OOM. */
ion_value ion_gc_str(struct ion_heap *h, const char *data, size_t len);
void ion_gc_collect(struct ion_heap *h);
void ion_gc_mark(struct ion_gc_marker *m, ion_value v);

/* Deep copy of v into dst, keeping sharing and cycles; strings are shared.
 * Returns 0 and sets *out, or -1 (out of memory or nested too deep). */
int ion_gc_copy(struct ion_heap *dst, ion_value v, ion_value *out);

#endif

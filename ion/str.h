/* str.h - immutable shared strings and interned atoms.
 *
 * Strings are allocated outside process heaps and reference counted, so a
 * message carrying a string shares it instead of copying it. A process heap
 * holds one reference per entry of its string list (gc.c); immortal strings
 * (constants owned by a loaded class) are never counted. The VM runs its
 * processes on one thread, so counts are plain integers.
 * Atoms are interned per VM and live as long as the VM.
 */
#ifndef ION_STR_H
#define ION_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ION_STR_IMMORTAL UINT32_MAX
#define ION_STR_MAX ((size_t)1 << 31)

struct ion_str {
	uint32_t refs;
	uint32_t mark; /* GC epoch of the last collection that saw it live */
	uint32_t len;
	uint32_t hash; /* 0 until computed */
	char data[];   /* len bytes plus a NUL, for the C library's sake */
};

struct ion_atom {
	struct ion_atom *next; /* hash chain */
	uint32_t len;
	uint32_t hash;
	char name[];
};

struct ion_atoms {
	struct ion_atom **buckets;
	size_t nbuckets;
	size_t count;
};

uint32_t ion_hash_bytes(const char *s, size_t len);

/* A new string with one reference, or NULL when out of memory / too long. */
struct ion_str *ion_str_new(const char *data, size_t len);
/* A new string of len bytes, contents to be filled by the caller. */
struct ion_str *ion_str_alloc(size_t len);
static inline void ion_str_incref(struct ion_str *s)
{
	if (s->refs != ION_STR_IMMORTAL)
		s->refs++;
}
void ion_str_decref(struct ion_str *s);
int ion_str_cmp(const struct ion_str *a, const struct ion_str *b);
static inline int ion_str_eq(const struct ion_str *a, const struct ion_str *b)
{
	return a == b || (a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

int ion_atoms_init(struct ion_atoms *t);
void ion_atoms_free(struct ion_atoms *t);
/* The atom for the name, creating it; NULL when out of memory. */
struct ion_atom *ion_atom_intern(struct ion_atoms *t, const char *s, size_t len);

#endif

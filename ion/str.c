/* str.c - shared strings and the atom table. */
#include <stdlib.h>
#include <string.h>

#include "ion/str.h"

uint32_t ion_hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

struct ion_str *ion_str_alloc(size_t len)
{
	if (len >= ION_STR_MAX)
		return NULL;
	struct ion_str *s = malloc(sizeof *s + len + 1);
	if (!s)
		return NULL;
	s->refs = 1;
	s->mark = 0;
	s->len = (uint32_t)len;
	s->hash = 0;
	s->data[len] = 0;
	return s;
}

struct ion_str *ion_str_new(const char *data, size_t len)
{
	struct ion_str *s = ion_str_alloc(len);
	if (s && len)
		memcpy(s->data, data, len);
	return s;
}

void ion_str_decref(struct ion_str *s)
{
	if (s->refs == ION_STR_IMMORTAL)
		return;
	if (--s->refs == 0)
		free(s);
}

int ion_str_cmp(const struct ion_str *a, const struct ion_str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

int ion_atoms_init(struct ion_atoms *t)
{
	t->nbuckets = 256;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	return t->buckets ? 0 : -1;
}

void ion_atoms_free(struct ion_atoms *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ion_atom *a = t->buckets[i];
		while (a) {
			struct ion_atom *n = a->next;
			free(a);
			a = n;
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}

static void atoms_grow(struct ion_atoms *t)
{
	size_t nb = t->nbuckets * 2;
	struct ion_atom **b = calloc(nb, sizeof *b);
	if (!b)
		return; /* keep the longer chains; lookups stay correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ion_atom *a = t->buckets[i];
		while (a) {
			struct ion_atom *n = a->next;
			a->next = b[a->hash & (nb - 1)];
			b[a->hash & (nb - 1)] = a;
			a = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

struct ion_atom *ion_atom_intern(struct ion_atoms *t, const char *s, size_t len)
{
	if (len > 0xFFFF)
		return NULL;
	uint32_t h = ion_hash_bytes(s, len);
	for (struct ion_atom *a = t->buckets[h & (t->nbuckets - 1)]; a; a = a->next)
		if (a->hash == h && a->len == len && memcmp(a->name, s, len) == 0)
			return a;
	struct ion_atom *a = malloc(sizeof *a + len + 1);
	if (!a)
		return NULL;
	a->len = (uint32_t)len;
	a->hash = h;
	memcpy(a->name, s, len);
	a->name[len] = 0;
	if (t->count + 1 > t->nbuckets)
		atoms_grow(t);
	a->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = a;
	t->count++;
	return a;
}

/* unit.c - unit memory, the opcode tables, CRC-32 and the .ionc encoder. */
#include <stdlib.h>
#include <string.h>

#include "ion/include/ion.h"
#include "ion/unit.h"

#define MODE(m) ION_MODE_##m
const uint8_t ion_op_modes[ION_OP__COUNT][4] = {
#define ION_OP_MODES(name, a, b, c, d, doc) { MODE(a), MODE(b), MODE(c), MODE(d) },
	ION_OPCODES(ION_OP_MODES)
#undef ION_OP_MODES
};
const char *const ion_op_names[ION_OP__COUNT] = {
#define ION_OP_NAME(name, a, b, c, d, doc) #name,
	ION_OPCODES(ION_OP_NAME)
#undef ION_OP_NAME
};
const char *const ion_op_docs[ION_OP__COUNT] = {
#define ION_OP_DOC(name, a, b, c, d, doc) doc,
	ION_OPCODES(ION_OP_DOC)
#undef ION_OP_DOC
};

int ion_op_lookup(const char *name, size_t len)
{
	for (int i = 0; i < ION_OP__COUNT; i++)
		if (strlen(ion_op_names[i]) == len && memcmp(ion_op_names[i], name, len) == 0)
			return i;
	return -1;
}

uint32_t ion_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* ---- arena: a unit is built and freed as a whole ---- */

struct ion_arena {
	struct ion_arena *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct ion_unit *ion_unit_new(void)
{
	struct ion_arena *a = malloc(sizeof *a + 4096);
	if (!a)
		return NULL;
	a->next = NULL;
	a->used = 0;
	a->cap = 4096;
	struct ion_unit *u = (struct ion_unit *)a->data;
	memset(u, 0, sizeof *u);
	a->used = (sizeof *u + 15) & ~(size_t)15;
	u->arena = a;
	return u;
}

void ion_unit_free(struct ion_unit *u)
{
	if (!u)
		return;
	struct ion_arena *a = u->arena;
	while (a) {
		struct ion_arena *n = a->next;
		free(a);
		a = n;
	}
}

void *ion_unit_alloc(struct ion_unit *u, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n > ((size_t)1 << 40))
		return NULL;
	/* The first arena (holding the unit) stays at the head of the list. */
	struct ion_arena *head = u->arena, *a = head->next ? head->next : head;
	if (a->cap - a->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		a = malloc(sizeof *a + cap);
		if (!a)
			return NULL;
		a->used = 0;
		a->cap = cap;
		a->next = head->next;
		head->next = a;
	}
	void *p = a->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

int ion_unit_bytes(struct ion_unit *u, struct ion_bytes *b, const char *s, size_t len)
{
	b->s = ion_unit_alloc(u, len + 1);
	if (!b->s)
		return ION_E_NOMEM;
	memcpy(b->s, s, len);
	b->s[len] = 0;
	b->len = (uint32_t)len;
	return 0;
}

/* ---- encoder ---- */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		while (cap < w->n + n)
			cap *= 2;
		uint8_t *np = realloc(w->p, cap);
		if (!np) {
			w->oom = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static void put_u8(struct wbuf *w, uint8_t v) { put(w, &v, 1); }
static void put_le(struct wbuf *w, uint64_t v, int n)
{
	uint8_t b[8];
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, (size_t)n);
}
static void put_f64(struct wbuf *w, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_le(w, v, 8);
}
static void put_str16(struct wbuf *w, const struct ion_bytes *b)
{
	put_le(w, b->len, 2);
	put(w, b->s, b->len);
}

static void put_const(struct wbuf *w, const struct ion_kconst *k);

static void put_pat(struct wbuf *w, const struct ion_kpat *p)
{
	put_u8(w, p->tag);
	switch (p->tag) {
	case ION_PAT_BIND: put_u8(w, p->reg); break;
	case ION_PAT_LIT: put_const(w, p->lit); break;
	case ION_PAT_TUPLE:
	case ION_PAT_ARRAY:
		put_le(w, p->n, 2);
		for (uint16_t i = 0; i < p->n; i++)
			put_pat(w, &p->items[i]);
		break;
	default: break;
	}
}

static void put_const(struct wbuf *w, const struct ion_kconst *k)
{
	put_u8(w, k->kind);
	switch (k->kind) {
	case ION_K_NUMBER: put_f64(w, k->num); break;
	case ION_K_STRING: put_le(w, k->s.len, 4); put(w, k->s.s, k->s.len); break;
	case ION_K_ATOM: case ION_K_NATIVE: put_str16(w, &k->s); break;
	case ION_K_COMPLEX: put_f64(w, k->num); put_f64(w, k->im); break;
	case ION_K_TUPLE: case ION_K_ARRAY:
		put_le(w, k->n, 4);
		for (uint32_t i = 0; i < k->n; i++)
			put_const(w, &k->items[i]);
		break;
	case ION_K_OBJECT:
		put_str16(w, &k->s);
		put_le(w, k->n, 4);
		for (uint32_t i = 0; i < k->n; i++) {
			put_str16(w, &k->props[i].key);
			put_u8(w, k->props[i].flags);
			put_const(w, &k->items[i]);
		}
		break;
	case ION_K_FUNCREF: put_str16(w, &k->s); put_str16(w, &k->s2); break;
	case ION_K_MATCH:
		put_le(w, k->n, 2);
		for (uint32_t i = 0; i < k->n; i++) {
			put_pat(w, &k->pats[i]);
			put_le(w, k->targets[i], 2);
		}
		break;
	default: break;
	}
}

static void put_func(struct wbuf *w, const struct ion_kfunc *f)
{
	put_str16(w, &f->name);
	put_u8(w, f->arity);
	put_le(w, f->nregs, 2);
	put_le(w, f->nup, 2);
	for (uint16_t i = 0; i < f->nup; i++) {
		put_u8(w, f->upkind[i]);
		put_le(w, f->upidx[i], 2);
	}
	put_le(w, f->ncode, 4);
	for (uint32_t i = 0; i < f->ncode; i++)
		put_le(w, f->code[i], 8);
}

int ion_unit_encode(const struct ion_unit *u, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };
	uint8_t hdr[ION_HEADER_SIZE] = { 'I', 'O', 'N', 'C' };
	put(&w, hdr, sizeof hdr);
	put_str16(&w, &u->name);
	put_le(&w, u->nk, 4);
	for (uint32_t i = 0; i < u->nk; i++)
		put_const(&w, &u->k[i]);
	put_le(&w, u->nf, 4);
	for (uint32_t i = 0; i < u->nf; i++)
		put_func(&w, &u->f[i]);
	if (w.oom) {
		free(w.p);
		return ION_E_NOMEM;
	}
	size_t plen = w.n - ION_HEADER_SIZE;
	uint32_t crc = ion_crc32(w.p + ION_HEADER_SIZE, plen);
	uint32_t fields[4] = { ION_FORMAT_MAJOR | (ION_FORMAT_MINOR << 16), 0, (uint32_t)plen, crc };
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 4; b++)
			w.p[4 + i * 4 + b] = (uint8_t)(fields[i] >> (8 * b));
	*out = w.p;
	*len = w.n;
	return 0;
}

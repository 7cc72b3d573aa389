/* unit.h - a class as it is stored: the decoded, verified form of one .ionc
 * file (docs/ionvm-bytecode.md), before linking into a VM.
 *
 * The loader builds it from bytes, the assembler from text; the encoder
 * writes it back byte for byte, the disassembler prints it. All of a unit's
 * memory comes from its arena and is freed with it.
 */
#ifndef ION_UNIT_H
#define ION_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "ion/opcodes.h"

#define ION_FORMAT_MAJOR 1
#define ION_FORMAT_MINOR 0
#define ION_HEADER_SIZE 20
#define ION_NEST_MAX 32

enum ion_kkind {
	ION_K_NIL, ION_K_FALSE, ION_K_TRUE, ION_K_NUMBER, ION_K_STRING, ION_K_ATOM,
	ION_K_COMPLEX, ION_K_TUPLE, ION_K_ARRAY, ION_K_OBJECT, ION_K_FUNCREF,
	ION_K_NATIVE, ION_K_MATCH, ION_K__COUNT
};

enum ion_ptag { ION_PAT_WILD, ION_PAT_BIND, ION_PAT_LIT, ION_PAT_TUPLE, ION_PAT_ARRAY };

struct ion_kconst;

struct ion_bytes {
	char *s;      /* NUL-terminated copy */
	uint32_t len;
};

struct ion_kpat {
	uint8_t tag;              /* enum ion_ptag */
	uint8_t reg;              /* BIND */
	uint16_t n;               /* TUPLE/ARRAY */
	struct ion_kconst *lit;   /* LIT */
	struct ion_kpat *items;   /* TUPLE/ARRAY */
};

struct ion_kprop {
	struct ion_bytes key;
	uint8_t flags;
};

struct ion_kconst {
	uint8_t kind;             /* enum ion_kkind */
	double num, im;           /* NUMBER; COMPLEX re/im */
	struct ion_bytes s;       /* STRING, ATOM, OBJECT type, FUNCREF class, NATIVE name */
	struct ion_bytes s2;      /* FUNCREF function name */
	uint32_t n;               /* TUPLE/ARRAY/OBJECT items, MATCH arms */
	struct ion_kconst *items; /* TUPLE/ARRAY items, OBJECT values */
	struct ion_kprop *props;  /* OBJECT keys and flags */
	struct ion_kpat *pats;    /* MATCH arm patterns */
	uint16_t *targets;        /* MATCH arm targets */
};

struct ion_kfunc {
	struct ion_bytes name;
	uint8_t arity;
	uint16_t nregs;
	uint16_t nup;
	uint8_t *upkind;
	uint16_t *upidx;
	uint32_t ncode;
	uint64_t *code;
};

struct ion_arena;

struct ion_unit {
	struct ion_arena *arena;
	uint16_t minor;           /* format minor version it was read with */
	struct ion_bytes name;
	uint32_t nk;
	struct ion_kconst *k;
	uint32_t nf;
	struct ion_kfunc *f;
};

/* Operand modes and names from the opcode table. */
extern const uint8_t ion_op_modes[ION_OP__COUNT][4];
extern const char *const ion_op_names[ION_OP__COUNT];
extern const char *const ion_op_docs[ION_OP__COUNT];
int ion_op_lookup(const char *name, size_t len);

uint32_t ion_crc32(const void *data, size_t len);

/* An empty unit with its own arena; NULL when out of memory. */
struct ion_unit *ion_unit_new(void);
void ion_unit_free(struct ion_unit *u);
/* Zeroed memory from the unit's arena; NULL when out of memory. */
void *ion_unit_alloc(struct ion_unit *u, size_t n);
int ion_unit_bytes(struct ion_unit *u, struct ion_bytes *b, const char *s, size_t len);

/* Decodes and verifies .ionc bytes. On failure returns ION_E_FORMAT or
 * ION_E_NOMEM and writes a message naming the place into err. */
int ion_unit_decode(const void *data, size_t len, struct ion_unit **out, char *err, size_t errlen);
/* Decodes one constant (kinds 0..11, as in a constant pool) filling all of
 * [data, data+len); its memory comes from u's arena. */
int ion_unit_decode_value(struct ion_unit *u, const void *data, size_t len, struct ion_kconst *out,
			  char *err, size_t errlen);
/* Checks everything the decoder checks after parsing (used for assembled units). */
int ion_unit_verify(const struct ion_unit *u, char *err, size_t errlen);
/* Encodes to a malloc'd buffer. */
int ion_unit_encode(const struct ion_unit *u, uint8_t **out, size_t *len);

#endif

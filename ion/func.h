/* func.h - linked classes and functions, as the interpreter runs them.
 *
 * A class is created from a verified unit when it is loaded and becomes
 * runnable when the VM links: then funcref and native constants have been
 * resolved to values. Functions and classes live as long as their VM.
 */
#ifndef ION_FUNC_H
#define ION_FUNC_H

#include <stdint.h>

#include "ion/gc.h"
#include "ion/value.h"

struct ion_unit;
struct ion_class;

/* A runtime pattern: a match-table arm after linking. */
struct ion_pat {
	uint8_t tag;     /* enum ion_ptag */
	uint8_t reg;
	uint16_t n;
	ion_value lit;
	struct ion_pat *items;
};

struct ion_mtable {
	uint32_t narms;
	struct ion_pat *pats;
	const uint16_t *targets;
};

struct ion_func {
	struct ion_class *cls;
	const char *name;
	uint8_t arity;
	uint16_t nregs;
	uint16_t nup;
	const uint8_t *upkind;
	const uint16_t *upidx;
	uint32_t ncode;
	const uint64_t *code;
	const ion_value *K;            /* the class's constants */
	struct ion_mtable *const *mt;  /* per constant index, NULL unless a match table */
};

struct ion_class {
	char *name;
	struct ion_unit *unit;         /* owns names, code and raw constants */
	uint32_t nk;
	ion_value *K;
	struct ion_atom **KA;          /* property-name atom per string/atom constant */
	struct ion_mtable **mt;
	uint32_t nf;
	struct ion_func *funcs;
	struct ion_heap templates;     /* static objects behind tuple/array/object constants */
	struct ion_str **strs;         /* immortal strings of the constant pool */
	uint32_t nstrs, capstrs;
	int linked;
};

struct ion_func *ion_class_func(struct ion_class *c, const char *name);

#endif

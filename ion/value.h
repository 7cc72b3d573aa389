/* value.h - the NaN-boxed value word.
 *
 * A value is a double unless its top 16 bits are 0xFFF9..0xFFFF; those
 * patterns are NaNs with a payload that arithmetic never produces, because
 * every NaN that enters the VM (constants, natives) is canonicalised to
 * 0x7FF8000000000000 and the FPU's own default NaN is 0xFFF8000000000000.
 * The low 48 bits carry a pointer or a small payload.
 */
#ifndef ION_VALUE_H
#define ION_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ion/include/ion.h"

enum ion_tag {
	ION_TAG_SPECIAL = 0xFFF9, /* payload 0 nil, 1 false, 2 true */
	ION_TAG_ATOM = 0xFFFA,    /* struct ion_atom *, VM-lifetime */
	ION_TAG_STR = 0xFFFB,     /* struct ion_str *, refcounted, shared */
	ION_TAG_OBJ = 0xFFFC,     /* struct ion_gcobj *, in a process heap */
	ION_TAG_FUNC = 0xFFFD,    /* struct ion_func *, VM-lifetime */
	ION_TAG_NATIVE = 0xFFFE,  /* struct ion_native *, VM-lifetime */
	ION_TAG_PID = 0xFFFF      /* slot index (bits 0..23), generation (24..47) */
};

#define ION_NIL   ((ion_value)0xFFF9000000000000ull)
#define ION_FALSE ((ion_value)0xFFF9000000000001ull)
#define ION_TRUE  ((ion_value)0xFFF9000000000002ull)
#define ION_PAYLOAD_MASK 0x0000FFFFFFFFFFFFull
#define ION_CANON_NAN 0x7FF8000000000000ull

struct ion_atom;
struct ion_str;
struct ion_gcobj;
struct ion_func;
struct ion_native;

static inline unsigned ion_tag_of(ion_value v) { return (unsigned)(v >> 48); }
static inline bool ion_is_num(ion_value v) { return v < 0xFFF9000000000000ull; }
static inline double ion_num(ion_value v)
{
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}
static inline ion_value ion_from_num(double d)
{
	ion_value v;
	memcpy(&v, &d, sizeof v);
	return v;
}
/* For doubles from outside arithmetic (constants, natives, parsing). */
static inline ion_value ion_from_num_canon(double d)
{
	return d != d ? (ion_value)ION_CANON_NAN : ion_from_num(d);
}
static inline ion_value ion_box(unsigned tag, const void *p)
{
	return ((ion_value)tag << 48) | ((uintptr_t)p & ION_PAYLOAD_MASK);
}
static inline void *ion_unbox(ion_value v) { return (void *)(uintptr_t)(v & ION_PAYLOAD_MASK); }
static inline ion_value ion_bool(bool b) { return b ? ION_TRUE : ION_FALSE; }
static inline bool ion_truthy(ion_value v) { return v != ION_NIL && v != ION_FALSE; }
static inline bool ion_is_bool(ion_value v) { return v == ION_TRUE || v == ION_FALSE; }

#define ION_IS(tag, v) (ion_tag_of(v) == (tag))
static inline bool ion_is_str(ion_value v) { return ION_IS(ION_TAG_STR, v); }
static inline bool ion_is_atom(ion_value v) { return ION_IS(ION_TAG_ATOM, v); }
static inline bool ion_is_obj(ion_value v) { return ION_IS(ION_TAG_OBJ, v); }
static inline bool ion_is_func(ion_value v) { return ION_IS(ION_TAG_FUNC, v); }
static inline bool ion_is_native(ion_value v) { return ION_IS(ION_TAG_NATIVE, v); }
static inline bool ion_is_pid(ion_value v) { return ION_IS(ION_TAG_PID, v); }

static inline struct ion_str *ion_as_str(ion_value v) { return ion_unbox(v); }
static inline struct ion_atom *ion_as_atom(ion_value v) { return ion_unbox(v); }
static inline struct ion_gcobj *ion_as_obj(ion_value v) { return ion_unbox(v); }
static inline struct ion_func *ion_as_func(ion_value v) { return ion_unbox(v); }
static inline struct ion_native *ion_as_native(ion_value v) { return ion_unbox(v); }

static inline ion_value ion_pid(uint32_t slot, uint32_t gen)
{
	return ((ion_value)ION_TAG_PID << 48) | ((ion_value)(gen & 0xFFFFFFu) << 24) |
	       (slot & 0xFFFFFFu);
}
static inline uint32_t ion_pid_slot(ion_value v) { return (uint32_t)(v & 0xFFFFFFu); }
static inline uint32_t ion_pid_gen(ion_value v) { return (uint32_t)((v >> 24) & 0xFFFFFFu); }

#endif

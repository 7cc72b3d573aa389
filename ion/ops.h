/* ops.h - value operations beyond the interpreter's inline fast paths:
 * equality, arithmetic on non-numbers, comparison, indexing, length, type.
 * Functions that can fail return 0 or ION_NATIVE_ERROR after raising. */
#ifndef ION_OPS_H
#define ION_OPS_H

#include <stdbool.h>

#include "ion/value.h"

struct ion_proc;

/* Built-in equality: numbers by value, strings/atoms by content, complex and
 * tuples structurally, everything else by identity. */
bool ion_values_equal(ion_value a, ion_value b);

/* op is ION_OP_add/sub/mul/div/mod/pow/neg for a and b that are not both
 * numbers. *method is set (and 1 returned) when an object's magic method
 * must be called with (a, b) instead. */
int ion_arith(struct ion_proc *p, unsigned op, ion_value a, ion_value b, ion_value *out,
	      ion_value *method);
/* Ordering of two numbers or two strings: *out < 0, 0, > 0; NaN gives 2. */
int ion_compare(struct ion_proc *p, ion_value a, ion_value b, int *out);
int ion_get_index(struct ion_proc *p, ion_value c, ion_value k, ion_value *out);
int ion_set_index(struct ion_proc *p, ion_value c, ion_value k, ion_value v);
int ion_len(struct ion_proc *p, ion_value v, ion_value *out);
ion_value ion_type_of(struct ion_proc *p, ion_value v);
/* The magic method `name` on the chain of object v, or 0. */
ion_value ion_magic(ion_value v, struct ion_atom *name);
/* A property key from a string or atom value; NULL (after raising) otherwise. */
struct ion_atom *ion_key_of(struct ion_proc *p, ion_value k);
/* Raises badprop for an object error code from object.h. */
int ion_prop_error(struct ion_proc *p, int code, const struct ion_atom *key);

#endif

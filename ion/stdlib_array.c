/* stdlib_array.c - array.*: growable arrays; map/filter/sort call back. */
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/interp.h"
#include "ion/object.h"
#include "ion/ops.h"
#include "ion/process.h"

static int a_push(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_array *arr;
	if (ion_arg_array(p, a, 0, &arr))
		return ION_NATIVE_ERROR;
	if (ion_array_push(&p->heap, arr, a[1]))
		return ion_proc_raise(p, "nomem", "out of memory");
	*out = a[0];
	return ION_NATIVE_OK;
}

static int a_pop(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_array *arr;
	if (ion_arg_array(p, a, 0, &arr))
		return ION_NATIVE_ERROR;
	*out = arr->h.len ? arr->items[--arr->h.len] : ION_NIL;
	return ION_NATIVE_OK;
}

static int a_len(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_array *arr;
	if (ion_arg_array(p, a, 0, &arr))
		return ION_NATIVE_ERROR;
	*out = ion_from_num(arr->h.len);
	return ION_NATIVE_OK;
}

/* map (keep = 0) or filter (keep = 1) with a callback. The source array
 * and callback stay rooted in the caller's registers; the result is rooted
 * as a temporary while callbacks run. */
static int map_filter(struct ion_proc *p, ion_value *a, ion_value *out, int keep)
{
	struct ion_array *src;
	if (ion_arg_array(p, a, 0, &src))
		return ION_NATIVE_ERROR;
	ion_value fn = a[1];
	struct ion_array *dst = ion_array_new(&p->heap, keep ? 4 : src->h.len);
	if (!dst)
		return ion_proc_raise(p, "nomem", "out of memory");
	ion_value dv = ion_box(ION_TAG_OBJ, dst);
	if (ion_proc_push_root(p, dv))
		return ion_proc_raise(p, "nomem", "out of memory");
	int rc = ION_NATIVE_OK;
	for (uint32_t i = 0; i < src->h.len && rc == ION_NATIVE_OK; i++) {
		ion_value item = src->items[i], r;
		if (ion_interp_call(p, fn, &item, 1, &r)) {
			rc = ION_NATIVE_ERROR;
		} else if (!keep || ion_truthy(r)) {
			if (ion_array_push(&p->heap, dst, keep ? item : r))
				rc = ion_proc_raise(p, "nomem", "out of memory");
		}
	}
	ion_proc_pop_root(p);
	*out = dv;
	return rc;
}

static int a_map(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return map_filter(p, a, out, 0); }
static int a_filter(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return map_filter(p, a, out, 1); }

/* x < y by the comparator (truthy result) or by built-in ordering. */
static int less(struct ion_proc *p, ion_value cmp, ion_value x, ion_value y, int *lt)
{
	if (cmp == ION_NIL) {
		int c;
		if (ion_compare(p, x, y, &c))
			return -1;
		*lt = c == -1;
		return 0;
	}
	ion_value args[2] = { x, y }, r;
	if (ion_interp_call(p, cmp, args, 2, &r))
		return -1;
	*lt = ion_truthy(r);
	return 0;
}

/* Stable bottom-up merge sort. The scratch space is itself an array in the
 * process heap, rooted while comparators run, so the items stay alive even
 * if a comparator empties the array being sorted. */
static int a_sort(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_array *arr;
	if (n < 1 || n > 2)
		return ion_proc_raise(p, "badarity", "array.sort(array[, less])");
	if (ion_arg_array(p, a, 0, &arr))
		return ION_NATIVE_ERROR;
	ion_value av = a[0], cmp = n == 2 ? a[1] : ION_NIL;
	uint32_t len = arr->h.len;
	*out = av;
	if (len < 2)
		return ION_NATIVE_OK;
	if (len > (1u << 29))
		return ion_proc_raise(p, "nomem", "array too large to sort");
	struct ion_array *scratch = ion_array_new(&p->heap, 2 * len);
	if (!scratch)
		return ion_proc_raise(p, "nomem", "out of memory");
	memcpy(scratch->items, arr->items, len * sizeof(ion_value));
	memcpy(scratch->items + len, arr->items, len * sizeof(ion_value));
	scratch->h.len = 2 * len;
	if (ion_proc_push_root(p, ion_box(ION_TAG_OBJ, scratch)))
		return ion_proc_raise(p, "nomem", "out of memory");
	ion_value *from = scratch->items, *to = scratch->items + len;
	int rc = ION_NATIVE_OK;
	for (uint32_t w = 1; w < len && rc == ION_NATIVE_OK; w *= 2) {
		for (uint32_t lo = 0; lo < len && rc == ION_NATIVE_OK; lo += 2 * w) {
			uint32_t mid = lo + w < len ? lo + w : len, hi = lo + 2 * w < len ? lo + 2 * w : len;
			uint32_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				int lt;
				if (less(p, cmp, from[j], from[i], &lt)) {
					rc = ION_NATIVE_ERROR;
					break;
				}
				to[k++] = lt ? from[j++] : from[i++];
			}
			while (rc == ION_NATIVE_OK && i < mid)
				to[k++] = from[i++];
			while (rc == ION_NATIVE_OK && j < hi)
				to[k++] = from[j++];
		}
		ion_value *t = from;
		from = to;
		to = t;
	}
	ion_proc_pop_root(p);
	if (rc == ION_NATIVE_OK && arr->h.len == len) /* unless a comparator resized it */
		memcpy(arr->items, from, len * sizeof(ion_value));
	*out = av;
	return rc;
}

const struct ion_native ion_stdlib_array[] = {
	{ "array.push", 2, "append a value, returning the array", a_push },
	{ "array.pop", 1, "remove and return the last value (nil when empty)", a_pop },
	{ "array.len", 1, "number of items", a_len },
	{ "array.map", 2, "new array of f(item) for each item", a_map },
	{ "array.filter", 2, "new array of the items for which f(item) is truthy", a_filter },
	{ "array.sort", -1, "sort in place (numbers/strings, or by less(a, b)); returns it", a_sort },
	{ NULL, 0, NULL, NULL }
};

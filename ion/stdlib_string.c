/* stdlib_string.c - string.*: byte-indexed operations on immutable strings. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#include "ion/ffi.h"
#include "ion/format.h"
#include "ion/object.h"
#include "ion/process.h"
#include "ion/str.h"

static int s_len(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	const char *s;
	size_t len;
	if (ion_arg_str(p, a, 0, &s, &len))
		return ION_NATIVE_ERROR;
	*out = ion_from_num((double)len);
	return ION_NATIVE_OK;
}

/* Clamps a possibly negative (from the end) index into [0, len]. */
static size_t clamp_index(double d, size_t len)
{
	if (d < 0)
		d += (double)len;
	if (d < 0 || d != d)
		return 0;
	return d > (double)len ? len : (size_t)d;
}

static int s_slice(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	const char *s;
	size_t len;
	double from, to;
	if (ion_arg_str(p, a, 0, &s, &len) || ion_arg_num(p, a, 1, &from) || ion_arg_num(p, a, 2, &to))
		return ION_NATIVE_ERROR;
	size_t i = clamp_index(from, len), j = clamp_index(to, len);
	*out = ion_new_str(p, s + i, j > i ? j - i : 0);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int s_find(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	const char *s, *sub;
	size_t len, sublen;
	if (ion_arg_str(p, a, 0, &s, &len) || ion_arg_str(p, a, 1, &sub, &sublen))
		return ION_NATIVE_ERROR;
	const char *hit = sublen ? memmem(s, len, sub, sublen) : s;
	*out = ion_from_num(hit ? (double)(hit - s) : -1.0);
	return ION_NATIVE_OK;
}

static int s_split(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	const char *s, *sep;
	size_t len, seplen;
	if (ion_arg_str(p, a, 0, &s, &len) || ion_arg_str(p, a, 1, &sep, &seplen))
		return ION_NATIVE_ERROR;
	if (!seplen)
		return ion_proc_raise(p, "badarg", "empty separator");
	struct ion_array *arr = ion_array_new(&p->heap, 4);
	if (!arr)
		return ion_proc_raise(p, "nomem", "out of memory");
	ion_value av = ion_box(ION_TAG_OBJ, arr);
	if (ion_proc_push_root(p, av))
		return ion_proc_raise(p, "nomem", "out of memory");
	int rc = ION_NATIVE_OK;
	for (;;) {
		const char *hit = memmem(s, len, sep, seplen);
		size_t piece = hit ? (size_t)(hit - s) : len;
		ion_value v = ion_new_str(p, s, piece);
		if (!v || ion_array_push(&p->heap, arr, v)) {
			rc = v ? ion_proc_raise(p, "nomem", "out of memory") : ION_NATIVE_ERROR;
			break;
		}
		if (!hit)
			break;
		s = hit + seplen;
		len -= piece + seplen;
	}
	ion_proc_pop_root(p);
	*out = av;
	return rc;
}

static int s_join(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_array *arr;
	const char *sep;
	size_t seplen;
	if (ion_arg_array(p, a, 0, &arr) || ion_arg_str(p, a, 1, &sep, &seplen))
		return ION_NATIVE_ERROR;
	struct ion_buf b = { 0 };
	for (uint32_t i = 0; i < arr->h.len; i++) {
		if (i)
			ion_buf_put(&b, sep, seplen);
		ion_format_value(NULL, &b, arr->items[i], 1);
	}
	if (b.oom) {
		free(b.p);
		return ion_proc_raise(p, "nomem", "out of memory");
	}
	*out = ion_new_str(p, b.p ? b.p : "", b.n);
	free(b.p);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int s_case(struct ion_proc *p, ion_value *a, ion_value *out, int upper)
{
	const char *s;
	size_t len;
	if (ion_arg_str(p, a, 0, &s, &len))
		return ION_NATIVE_ERROR;
	struct ion_str *r = ion_str_alloc(len);
	if (!r)
		return ion_proc_raise(p, "nomem", "out of memory");
	for (size_t i = 0; i < len; i++)
		r->data[i] = (char)(upper ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
	if (ion_gc_adopt_str(&p->heap, r))
		return ion_proc_raise(p, "nomem", "out of memory");
	*out = ion_box(ION_TAG_STR, r);
	return ION_NATIVE_OK;
}

static int s_upper(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return s_case(p, a, out, 1); }
static int s_lower(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return s_case(p, a, out, 0); }

/* string.format(fmt, ...): each "{}" takes the next argument's display form;
 * "{{" and "}}" are literal braces. */
static int s_format(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	const char *f;
	size_t len;
	if (n < 1)
		return ion_proc_raise(p, "badarity", "string.format needs a format");
	if (ion_arg_str(p, a, 0, &f, &len))
		return ION_NATIVE_ERROR;
	struct ion_buf b = { 0 };
	int next = 1;
	for (size_t i = 0; i < len; i++) {
		if (f[i] == '{' && i + 1 < len && f[i + 1] == '}') {
			if (next >= n) {
				free(b.p);
				return ion_proc_raise(p, "badarg", "format needs more arguments");
			}
			ion_format_value(NULL, &b, a[next++], 1);
			i++;
		} else if ((f[i] == '{' || f[i] == '}') && i + 1 < len && f[i + 1] == f[i]) {
			ion_buf_put(&b, &f[i], 1);
			i++;
		} else {
			ion_buf_put(&b, &f[i], 1);
		}
	}
	if (b.oom) {
		free(b.p);
		return ion_proc_raise(p, "nomem", "out of memory");
	}
	*out = ion_new_str(p, b.p ? b.p : "", b.n);
	free(b.p);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int s_from(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_buf b = { 0 };
	ion_format_value(p, &b, a[0], 1);
	if (b.oom) {
		free(b.p);
		return ion_proc_raise(p, "nomem", "out of memory");
	}
	*out = ion_new_str(p, b.p ? b.p : "", b.n);
	free(b.p);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

const struct ion_native ion_stdlib_string[] = {
	{ "string.len", 1, "length in bytes", s_len },
	{ "string.slice", 3, "bytes [from, to) (negative counts from the end)", s_slice },
	{ "string.find", 2, "byte index of the first occurrence, or -1", s_find },
	{ "string.split", 2, "array of the pieces between separators", s_split },
	{ "string.join", 2, "display forms of an array's items joined by a separator", s_join },
	{ "string.upper", 1, "ASCII upper case", s_upper },
	{ "string.lower", 1, "ASCII lower case", s_lower },
	{ "string.format", -1, "format with {} placeholders", s_format },
	{ "string.from", 1, "display form of any value", s_from },
	{ NULL, 0, NULL, NULL }
};

/* stdlib_buf.c - buf.*: mutable byte buffers (ion_buffer, object.h).
 *
 * Indexing a buffer reads one byte as a number, index assignment writes
 * one, and len() is its size; these natives move runs of bytes between a
 * buffer and (immutable) strings. Every range is checked in full before a
 * byte moves, so a call either does all of its work or raises.
 */
#include <math.h>

#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/str.h"

static int arg_buffer(struct ion_proc *p, const ion_value *a, int i, struct ion_buffer **out)
{
	if (!ion_is_otype(a[i], ION_O_BUFFER))
		return ion_proc_raise(p, "badarg", "argument %d must be a buffer, not %s", i + 1,
				      ion_as_atom(ion_type_of(p, a[i]))->name);
	*out = (struct ion_buffer *)ion_as_obj(a[i]);
	return 0;
}

/* A byte count or offset: an integer in [0, max]. */
static int arg_count(struct ion_proc *p, const ion_value *a, int i, size_t max, size_t *out)
{
	double d;
	if (ion_arg_num(p, a, i, &d))
		return ION_NATIVE_ERROR;
	if (d != floor(d) || d < 0 || d > (double)max)
		return ion_proc_raise(p, "badarg", "argument %d must be an integer in 0..%zu, not %g",
				      i + 1, max, d);
	*out = (size_t)d;
	return 0;
}

/* [off, off + len) must lie inside b. */
static int check_range(struct ion_proc *p, const struct ion_buffer *b, size_t off, size_t len)
{
	if (off > b->size || len > b->size - off)
		return ion_proc_raise(p, "badindex", "bytes %zu..%zu outside a buffer of %zu bytes",
				      off, off + len, b->size);
	return 0;
}

static int b_new(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	size_t size;
	if (arg_count(p, a, 0, ION_BUFFER_MAX, &size))
		return ION_NATIVE_ERROR;
	struct ion_buffer *b = ion_buffer_new(&p->heap, size);
	if (!b)
		return ion_proc_raise(p, "nomem", "no memory for a buffer of %zu bytes", size);
	*out = ion_box(ION_TAG_OBJ, b);
	return ION_NATIVE_OK;
}

static int b_read(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_buffer *b;
	size_t off, len;
	if (arg_buffer(p, a, 0, &b) || arg_count(p, a, 1, ION_BUFFER_MAX, &off) ||
	    arg_count(p, a, 2, ION_STR_MAX - 1, &len) || check_range(p, b, off, len))
		return ION_NATIVE_ERROR;
	*out = ion_new_str(p, (const char *)b->data + off, len);
	return *out ? ION_NATIVE_OK : ION_NATIVE_ERROR;
}

static int b_write(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_buffer *b;
	size_t off, len;
	const char *s;
	if (arg_buffer(p, a, 0, &b) || arg_count(p, a, 1, ION_BUFFER_MAX, &off) ||
	    ion_arg_str(p, a, 2, &s, &len) || check_range(p, b, off, len))
		return ION_NATIVE_ERROR;
	memcpy(b->data + off, s, len);
	*out = ion_from_num((double)len);
	return ION_NATIVE_OK;
}

static int b_fill(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	struct ion_buffer *b;
	size_t off, len, byte;
	if (arg_buffer(p, a, 0, &b) || arg_count(p, a, 1, ION_BUFFER_MAX, &off) ||
	    arg_count(p, a, 2, ION_BUFFER_MAX, &len) || arg_count(p, a, 3, 255, &byte) ||
	    check_range(p, b, off, len))
		return ION_NATIVE_ERROR;
	memset(b->data + off, (int)byte, len);
	*out = ION_NIL;
	return ION_NATIVE_OK;
}

const struct ion_native ion_stdlib_buf[] = {
	{ "buf.new", 1, "a new buffer of n zero bytes", b_new },
	{ "buf.read", 3, "a string copy of len bytes of buffer b from off", b_read },
	{ "buf.write", 3, "copies string s into buffer b at off; returns its length", b_write },
	{ "buf.fill", 4, "sets len bytes of buffer b from off to byte", b_fill },
	{ NULL, 0, NULL, NULL }
};

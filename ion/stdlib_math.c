/* stdlib_math.c - math.*: numeric functions over doubles, and complex. */
#include <math.h>

#include "ion/ffi.h"
#include "ion/object.h"
#include "ion/process.h"

#define UNARY(cname, expr) \
	static int cname(struct ion_proc *p, ion_value *a, int n, ion_value *out) \
	{ \
		double x; \
		if (ion_arg_num(p, a, 0, &x)) \
			return ION_NATIVE_ERROR; \
		*out = ion_from_num_canon(expr); \
		return ION_NATIVE_OK; \
	}

UNARY(m_sin, sin(x))
UNARY(m_cos, cos(x))
UNARY(m_tan, tan(x))
UNARY(m_sqrt, sqrt(x))
UNARY(m_floor, floor(x))
UNARY(m_ceil, ceil(x))
UNARY(m_abs, fabs(x))
UNARY(m_exp, exp(x))
UNARY(m_log, log(x))
UNARY(m_round, round(x))

static int m_pow(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	double x, y;
	if (ion_arg_num(p, a, 0, &x) || ion_arg_num(p, a, 1, &y))
		return ION_NATIVE_ERROR;
	*out = ion_from_num_canon(pow(x, y));
	return ION_NATIVE_OK;
}

static int minmax(struct ion_proc *p, ion_value *a, int n, ion_value *out, int want_max)
{
	double best = 0, x;
	if (n < 1)
		return ion_proc_raise(p, "badarity", "needs at least one number");
	for (int i = 0; i < n; i++) {
		if (ion_arg_num(p, a, i, &x))
			return ION_NATIVE_ERROR;
		if (i == 0 || (want_max ? x > best : x < best))
			best = x;
	}
	*out = ion_from_num_canon(best);
	return ION_NATIVE_OK;
}

static int m_min(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return minmax(p, a, n, out, 0); }
static int m_max(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return minmax(p, a, n, out, 1); }

static int m_complex(struct ion_proc *p, ion_value *a, int n, ion_value *out)
{
	double re, im;
	if (ion_arg_num(p, a, 0, &re) || ion_arg_num(p, a, 1, &im))
		return ION_NATIVE_ERROR;
	struct ion_complex *c = ion_complex_new(&p->heap, re, im);
	if (!c)
		return ion_proc_raise(p, "nomem", "out of memory");
	*out = ion_box(ION_TAG_OBJ, c);
	return ION_NATIVE_OK;
}

static int m_part(struct ion_proc *p, ion_value *a, ion_value *out, int imag)
{
	if (ion_is_num(a[0])) {
		*out = imag ? ion_from_num(0) : a[0];
		return ION_NATIVE_OK;
	}
	if (!ion_is_otype(a[0], ION_O_COMPLEX))
		return ion_proc_raise(p, "badarg", "argument 1 must be a number or complex");
	const struct ion_complex *c = (const struct ion_complex *)ion_as_obj(a[0]);
	*out = ion_from_num_canon(imag ? c->im : c->re);
	return ION_NATIVE_OK;
}

static int m_re(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return m_part(p, a, out, 0); }
static int m_im(struct ion_proc *p, ion_value *a, int n, ion_value *out) { return m_part(p, a, out, 1); }

const struct ion_native ion_stdlib_math[] = {
	{ "math.sin", 1, "sine of x (radians)", m_sin },
	{ "math.cos", 1, "cosine of x (radians)", m_cos },
	{ "math.tan", 1, "tangent of x (radians)", m_tan },
	{ "math.sqrt", 1, "square root of x", m_sqrt },
	{ "math.pow", 2, "x raised to y", m_pow },
	{ "math.floor", 1, "largest integer <= x", m_floor },
	{ "math.ceil", 1, "smallest integer >= x", m_ceil },
	{ "math.round", 1, "x rounded half away from zero", m_round },
	{ "math.abs", 1, "absolute value of x", m_abs },
	{ "math.exp", 1, "e raised to x", m_exp },
	{ "math.log", 1, "natural logarithm of x", m_log },
	{ "math.min", -1, "smallest of the numbers", m_min },
	{ "math.max", -1, "largest of the numbers", m_max },
	{ "math.complex", 2, "the complex number re + im*i", m_complex },
	{ "math.re", 1, "real part of a number or complex", m_re },
	{ "math.im", 1, "imaginary part of a number or complex", m_im },
	{ NULL, 0, NULL, NULL }
};

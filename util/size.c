/* size.c - strict parsing of human sizes ("512M", "4GB", "4GiB"). */
#include "util/err.h"

#include <ctype.h>
#include <string.h>

static int unit_shift(const char *u, unsigned *shift)
{
	static const struct { const char *name; unsigned shift; } units[] = {
		{"", 0}, {"B", 0},
		{"K", 10}, {"KB", 10}, {"KIB", 10},
		{"M", 20}, {"MB", 20}, {"MIB", 20},
		{"G", 30}, {"GB", 30}, {"GIB", 30},
		{"T", 40}, {"TB", 40}, {"TIB", 40},
	};
	char up[8];
	size_t n = strlen(u);
	if (n >= sizeof(up))
		return -1;
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)u[i]);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(up, units[i].name) == 0) {
			*shift = units[i].shift;
			return 0;
		}
	}
	return -1;
}

int arcvm_parse_size(const char *s, uint64_t *out, struct arcvm_error *err)
{
	if (!s || !*s)
		return err_set(err, ARCVM_E_INVALID, "empty size");
	uint64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return err_set(err, ARCVM_E_INVALID,
			       "bad size '%s': expected a number such as 512M or 4G", s);
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return err_set(err, ARCVM_E_INVALID, "size '%s' is too large", s);
		v = v * 10 + d;
	}
	unsigned shift;
	if (unit_shift(p, &shift) != 0)
		return err_set(err, ARCVM_E_INVALID,
			       "bad size '%s': unknown unit '%s' (use K, M, G or T)", s, p);
	if (shift && v > (UINT64_MAX >> shift))
		return err_set(err, ARCVM_E_INVALID, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
}

/* format.h - the display form of values (docs/ionvm-bytecode.md). */
#ifndef ION_FORMAT_H
#define ION_FORMAT_H

#include <stddef.h>

#include "ion/value.h"

struct ion_proc;

struct ion_buf {
	char *p;
	size_t n, cap;
	int oom;
};

void ion_buf_put(struct ion_buf *b, const char *s, size_t n);
void ion_buf_puts(struct ion_buf *b, const char *s);
void ion_buf_printf(struct ion_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the display form of v. With a process, objects' __tostring
 * methods are called on it; without one they are not. */
void ion_format_value(struct ion_proc *p, struct ion_buf *b, ion_value v, int top);
void ion_format_number(struct ion_buf *b, double d);

#endif

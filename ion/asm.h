/* asm.h - the text form of bytecode: iondis prints it, ionasm reads it back,
 * and encoding what ionasm reads gives byte-identical .ionc files.
 * The syntax is described in docs/ionvm-bytecode.md ("Assembly text"). */
#ifndef ION_ASM_H
#define ION_ASM_H

#include <stddef.h>

#include "ion/format.h"
#include "ion/unit.h"

struct ion_asm_pack {
	char **keys, **values;       /* .manifest lines, in order */
	size_t nmanifest;
	struct ion_unit **units;     /* .class sections, in order */
	size_t nunits;
};

/* Appends the text of one class. */
void ion_disasm_unit(const struct ion_unit *u, struct ion_buf *b);
/* Parses text with any number of .manifest lines and .class sections; every
 * unit is verified. On failure returns ION_E_FORMAT with "line N: ..." in err. */
int ion_asm_parse(const char *text, size_t len, struct ion_asm_pack *out, char *err, size_t errlen);
void ion_asm_pack_free(struct ion_asm_pack *p);

/* Writes a pack file: the manifest entries and one classes/<name>.ionc per unit. */
int ion_pack_write(const char *path, char *const *keys, char *const *values, size_t nmanifest,
		   struct ion_unit *const *units, size_t nunits, char *err, size_t errlen);

#endif

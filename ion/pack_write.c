/* pack_write.c - writing an IonPack with libzip (used by ionasm and tests). */
#include <stdio.h>
#include <stdlib.h>
#include <zip.h>

#include "ion/asm.h"
#include "ion/include/ion.h"

static int add_buffer(zip_t *z, const char *name, void *data, size_t len)
{
	zip_source_t *src = zip_source_buffer(z, data, len, 1);
	if (!src) {
		free(data);
		return -1;
	}
	if (zip_file_add(z, name, src, ZIP_FL_OVERWRITE) < 0) {
		zip_source_free(src);
		return -1;
	}
	return 0;
}

static char *manifest_text(char *const *keys, char *const *values, size_t n, size_t *len)
{
	struct ion_buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		ion_buf_printf(&b, "%s: %s\n", keys[i], values[i]);
	if (b.oom || !b.p) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

int ion_pack_write(const char *path, char *const *keys, char *const *values, size_t nmanifest,
		   struct ion_unit *const *units, size_t nunits, char *err, size_t errlen)
{
	int zerr = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	if (!z) {
		snprintf(err, errlen, "cannot create %s (libzip error %d)", path, zerr);
		return ION_E_IO;
	}
	size_t mlen = 0;
	char *m = manifest_text(keys, values, nmanifest, &mlen);
	if (!m || add_buffer(z, "META-INF/MANIFEST.ion", m, mlen))
		goto fail;
	for (size_t i = 0; i < nunits; i++) {
		uint8_t *data;
		size_t len;
		char name[300];
		if (ion_unit_encode(units[i], &data, &len))
			goto fail;
		snprintf(name, sizeof name, "classes/%s.ionc", units[i]->name.s);
		if (add_buffer(z, name, data, len))
			goto fail;
	}
	if (zip_close(z) == 0)
		return 0;
	snprintf(err, errlen, "cannot write %s: %s", path, zip_strerror(z));
	zip_discard(z);
	return ION_E_IO;
fail:
	snprintf(err, errlen, "cannot build %s: %s", path, zip_strerror(z));
	zip_discard(z);
	return ION_E_IO;
}

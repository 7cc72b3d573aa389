/* iondis - prints an IonPack (or one .ionc) as assembly text that ionasm
 * reads back into identical bytecode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "ion/asm.h"
#include "ion/include/ion.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct ion_buf b = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ion_buf_put(&b, chunk, n);
	fclose(f);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p ? b.p : calloc(1, 1);
}

static int dis_class(const char *what, const void *data, size_t len, struct ion_buf *out)
{
	struct ion_unit *u;
	char err[1024];
	if (ion_unit_decode(data, len, &u, err, sizeof err)) {
		fprintf(stderr, "iondis: %s: %s\n", what, err);
		return 1;
	}
	ion_disasm_unit(u, out);
	ion_unit_free(u);
	return 0;
}

static void put_q(struct ion_buf *b, const char *s, size_t n)
{
	ion_buf_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			ion_buf_puts(b, "\\");
		ion_buf_put(b, &s[i], 1);
	}
	ion_buf_puts(b, "\"");
}

static void dis_manifest(const char *text, size_t len, struct ion_buf *out)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(e - p));
		if (colon && p[0] != '#') {
			const char *v = colon + 1, *ve = e;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			ion_buf_puts(out, ".manifest ");
			put_q(out, p, (size_t)(colon - p));
			ion_buf_puts(out, " ");
			put_q(out, v, (size_t)(ve - v));
			ion_buf_puts(out, "\n");
		}
		p = e + 1;
	}
}

static int read_zip_entry(zip_t *z, zip_uint64_t i, char **data, size_t *len)
{
	zip_stat_t st;
	if (zip_stat_index(z, i, 0, &st) || st.size > (64u << 20))
		return -1;
	zip_file_t *f = zip_fopen_index(z, i, 0);
	*data = malloc(st.size + 1);
	if (!f || !*data || zip_fread(f, *data, st.size) != (zip_int64_t)st.size) {
		if (f)
			zip_fclose(f);
		free(*data);
		return -1;
	}
	zip_fclose(f);
	*len = st.size;
	return 0;
}

static int dis_pack(const char *path, struct ion_buf *out)
{
	int zerr;
	zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
	if (!z) {
		fprintf(stderr, "iondis: %s: not a readable zip archive\n", path);
		return 1;
	}
	zip_int64_t n = zip_get_num_entries(z, 0), m = zip_name_locate(z, "META-INF/MANIFEST.ion", 0);
	int rc = 0;
	char *data;
	size_t len;
	if (m >= 0 && read_zip_entry(z, (zip_uint64_t)m, &data, &len) == 0) {
		dis_manifest(data, len, out);
		free(data);
	}
	for (zip_int64_t i = 0; i < n && !rc; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		size_t l = name ? strlen(name) : 0;
		if (l < 14 || strncmp(name, "classes/", 8) || strcmp(name + l - 5, ".ionc"))
			continue;
		if (read_zip_entry(z, (zip_uint64_t)i, &data, &len)) {
			fprintf(stderr, "iondis: %s: cannot read %s\n", path, name);
			rc = 1;
			break;
		}
		rc = dis_class(name, data, len, out);
		free(data);
	}
	zip_discard(z);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: iondis PACK.ionpack | CLASS.ionc\n");
		return 2;
	}
	struct ion_buf out = { 0 };
	size_t l = strlen(argv[1]);
	int rc;
	if (l > 5 && strcmp(argv[1] + l - 5, ".ionc") == 0) {
		size_t len;
		char *data = slurp(argv[1], &len);
		if (!data) {
			fprintf(stderr, "iondis: cannot read %s\n", argv[1]);
			return 2;
		}
		rc = dis_class(argv[1], data, len, &out);
		free(data);
	} else {
		rc = dis_pack(argv[1], &out);
	}
	if (!rc && out.p)
		fwrite(out.p, 1, out.n, stdout);
	free(out.p);
	return rc;
}

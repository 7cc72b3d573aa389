/* ionasm - assembles iondis text into a pack (with .manifest lines) or,
 * given -o NAME.ionc, into a single class file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ion/asm.h"
#include "ion/include/ion.h"

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t put = fwrite(data, 1, len, f);
	return (fclose(f) == 0 && put == len) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[2], "-o") != 0) {
		fprintf(stderr, "usage: ionasm IN.ionasm -o OUT.ionpack|OUT.ionc\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "ionasm: cannot open %s\n", argv[1]);
		return 2;
	}
	struct ion_buf in = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ion_buf_put(&in, chunk, n);
	fclose(f);
	struct ion_asm_pack pack;
	char err[1024];
	if (ion_asm_parse(in.p ? in.p : "", in.n, &pack, err, sizeof err)) {
		fprintf(stderr, "ionasm: %s: %s\n", argv[1], err);
		free(in.p);
		return 1;
	}
	free(in.p);
	const char *out = argv[3];
	size_t l = strlen(out);
	int rc = 0;
	if (l > 5 && strcmp(out + l - 5, ".ionc") == 0) {
		uint8_t *data;
		size_t len;
		if (pack.nunits != 1) {
			fprintf(stderr, "ionasm: a .ionc output needs exactly one .class\n");
			rc = 1;
		} else if (ion_unit_encode(pack.units[0], &data, &len) || write_file(out, data, len)) {
			fprintf(stderr, "ionasm: cannot write %s\n", out);
			rc = 1;
		} else {
			free(data);
		}
	} else if (ion_pack_write(out, pack.keys, pack.values, pack.nmanifest, pack.units,
				  pack.nunits, err, sizeof err)) {
		fprintf(stderr, "ionasm: %s\n", err);
		rc = 1;
	}
	ion_asm_pack_free(&pack);
	return rc;
}

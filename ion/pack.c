/* pack.c - reading an IonPack (docs/ionpack.md) with libzip: the manifest,
 * then every classes/<Name>.ionc, verified, then linking. */
#include <stdio.h>
#include <stdlib.h>
#include <zip.h>

#include "ion/unit.h"
#include "ion/vm.h"

#define PACK_MAX_ENTRIES 4096
#define PACK_MAX_CLASS (64u << 20)
#define PACK_MAX_MANIFEST (64u << 10)

static const char *const required_keys[] = {
	"manifest-version", "name", "version", "main-class", "entry-point", "format-version"
};

static int manifest_add(struct ion_vm *vm, const char *k, size_t kl, const char *v, size_t vl)
{
	for (uint32_t i = 0; i < vm->nmanifest; i++)
		if (strlen(vm->manifest[i].key) == kl && memcmp(vm->manifest[i].key, k, kl) == 0)
			return ion_vm_fail(vm, ION_E_FORMAT, "manifest: key '%.*s' appears twice", (int)kl, k);
	struct ion_manifest_entry *n = realloc(vm->manifest, (vm->nmanifest + 1) * sizeof *n);
	if (!n)
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	vm->manifest = n;
	char *ks = strndup(k, kl), *vs = strndup(v, vl);
	if (!ks || !vs) {
		free(ks);
		free(vs);
		return ion_vm_fail(vm, ION_E_NOMEM, "out of memory");
	}
	vm->manifest[vm->nmanifest++] = (struct ion_manifest_entry){ ks, vs };
	return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

static int manifest_check(struct ion_vm *vm)
{
	for (size_t i = 0; i < sizeof required_keys / sizeof *required_keys; i++)
		if (!ion_vm_manifest(vm, required_keys[i]))
			return ion_vm_fail(vm, ION_E_FORMAT, "manifest: missing '%s'", required_keys[i]);
	if (strcmp(ion_vm_manifest(vm, "manifest-version"), "1") != 0)
		return ion_vm_fail(vm, ION_E_FORMAT, "manifest: unsupported manifest-version %s",
				   ion_vm_manifest(vm, "manifest-version"));
	unsigned major, minor;
	char extra;
	if (sscanf(ion_vm_manifest(vm, "format-version"), "%u.%u%c", &major, &minor, &extra) != 2 ||
	    major != ION_FORMAT_MAJOR || minor > ION_FORMAT_MINOR)
		return ion_vm_fail(vm, ION_E_FORMAT, "manifest: unsupported format-version %s",
				   ion_vm_manifest(vm, "format-version"));
	size_t nl = strlen(ion_vm_manifest(vm, "name"));
	if (nl == 0 || nl > 255)
		return ion_vm_fail(vm, ION_E_FORMAT, "manifest: name must be 1..255 bytes");
	return 0;
}

int ion_pack_parse_manifest(struct ion_vm *vm, const char *text, size_t len)
{
	size_t i = 0;
	int line = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t end = e;
		line++;
		if (end > i && text[end - 1] == '\r')
			end--;
		const char *s = text + i;
		size_t n = end - i;
		i = e + 1;
		if (n == 0 || s[0] == '#')
			continue;
		const char *colon = memchr(s, ':', n);
		if (!colon || memchr(s, 0, n))
			return ion_vm_fail(vm, ION_E_FORMAT, "manifest line %d: expected 'key: value'", line);
		size_t kl = (size_t)(colon - s);
		const char *v = colon + 1, *ve = s + n;
		while (v < ve && is_space(*v))
			v++;
		while (ve > v && is_space(ve[-1]))
			ve--;
		while (kl && is_space(s[kl - 1]))
			kl--;
		if (kl == 0)
			return ion_vm_fail(vm, ION_E_FORMAT, "manifest line %d: empty key", line);
		int rc = manifest_add(vm, s, kl, v, (size_t)(ve - v));
		if (rc)
			return rc;
	}
	return manifest_check(vm);
}

static int safe_name(const char *n)
{
	if (n[0] == '/' || strchr(n, '\\'))
		return 0;
	for (const char *p = n; *p;) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += l + (slash ? 1 : 0);
		if (!slash)
			break;
	}
	return 1;
}

/* Reads one entry fully; the size in the directory is only trusted as a limit. */
static int read_entry(struct ion_vm *vm, zip_t *z, zip_uint64_t idx, const char *name,
		      size_t max, char **out, size_t *len)
{
	zip_stat_t st;
	if (zip_stat_index(z, idx, 0, &st) || !(st.valid & ZIP_STAT_SIZE))
		return ion_vm_fail(vm, ION_E_FORMAT, "pack entry %s: unreadable", name);
	if (st.size > max)
		return ion_vm_fail(vm, ION_E_FORMAT, "pack entry %s: too large (%llu bytes)", name,
				   (unsigned long long)st.size);
	char *buf = malloc(st.size + 1);
	zip_file_t *f = buf ? zip_fopen_index(z, idx, 0) : NULL;
	if (!f) {
		free(buf);
		return ion_vm_fail(vm, buf ? ION_E_FORMAT : ION_E_NOMEM, "pack entry %s: %s", name,
				   buf ? zip_strerror(z) : "out of memory");
	}
	zip_int64_t got = zip_fread(f, buf, st.size);
	char extra;
	zip_int64_t more = got >= 0 ? zip_fread(f, &extra, 1) : 0;
	zip_fclose(f);
	if (got < 0 || (zip_uint64_t)got != st.size || more != 0) {
		free(buf);
		return ion_vm_fail(vm, ION_E_FORMAT, "pack entry %s: damaged (size or CRC mismatch)", name);
	}
	buf[st.size] = 0;
	*out = buf;
	*len = (size_t)st.size;
	return 0;
}

static int load_manifest(struct ion_vm *vm, zip_t *z)
{
	zip_int64_t idx = zip_name_locate(z, "META-INF/MANIFEST.ion", 0);
	if (idx < 0)
		return ion_vm_fail(vm, ION_E_FORMAT, "pack has no META-INF/MANIFEST.ion");
	char *text;
	size_t len;
	int rc = read_entry(vm, z, (zip_uint64_t)idx, "META-INF/MANIFEST.ion", PACK_MAX_MANIFEST,
			    &text, &len);
	if (rc)
		return rc;
	rc = ion_pack_parse_manifest(vm, text, len);
	free(text);
	return rc;
}

static int load_class_entry(struct ion_vm *vm, zip_t *z, zip_uint64_t idx, const char *name)
{
	char *data;
	size_t len;
	int rc = read_entry(vm, z, idx, name, PACK_MAX_CLASS, &data, &len);
	if (rc)
		return rc;
	struct ion_unit *u;
	char err[1024];
	rc = ion_unit_decode(data, len, &u, err, sizeof err);
	if (!rc && vm->on_class && vm->on_class(vm->on_class_opaque, name, data, len)) {
		ion_unit_free(u);
		rc = ION_E_NOMEM;
		snprintf(err, sizeof err, "out of memory");
	}
	free(data);
	if (rc)
		return ion_vm_fail(vm, rc, "pack entry %s: %s", name, err);
	size_t base = strlen(name) - strlen("classes/") - strlen(".ionc");
	if (u->name.len != base || memcmp(u->name.s, name + strlen("classes/"), base) != 0) {
		ion_vm_fail(vm, ION_E_FORMAT, "pack entry %s holds class %s", name, u->name.s);
		ion_unit_free(u);
		return ION_E_FORMAT;
	}
	return ion_link_add_unit(vm, u);
}

static int load_classes(struct ion_vm *vm, zip_t *z)
{
	zip_int64_t n = zip_get_num_entries(z, 0);
	if (n < 0 || n > PACK_MAX_ENTRIES)
		return ion_vm_fail(vm, ION_E_FORMAT, "pack has %lld entries (at most %d)", (long long)n,
				   PACK_MAX_ENTRIES);
	int classes = 0;
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		if (!name)
			return ion_vm_fail(vm, ION_E_FORMAT, "pack entry %lld has no name", (long long)i);
		if (!safe_name(name))
			return ion_vm_fail(vm, ION_E_FORMAT, "pack entry name %s is not allowed", name);
		size_t l = strlen(name);
		if (l > 13 && strncmp(name, "classes/", 8) == 0 && strcmp(name + l - 5, ".ionc") == 0 &&
		    !strchr(name + 8, '/')) {
			int rc = load_class_entry(vm, z, (zip_uint64_t)i, name);
			if (rc)
				return rc;
			classes++;
		}
	}
	if (!classes)
		return ion_vm_fail(vm, ION_E_FORMAT, "pack has no classes/*.ionc");
	return 0;
}

int ion_pack_load(struct ion_vm *vm, const void *data, size_t len, const char *what)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
	if (!src) {
		zip_error_fini(&ze);
		return ion_vm_fail(vm, ION_E_NOMEM, "%s: out of memory", what);
	}
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z) {
		int rc = ion_vm_fail(vm, ION_E_FORMAT, "%s: not a valid zip archive (%s)", what,
				     zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	int rc = load_manifest(vm, z);
	if (!rc)
		rc = load_classes(vm, z);
	zip_discard(z);
	if (!rc)
		rc = ion_link_all(vm);
	if (!rc && !ion_vm_find_class(vm, ion_vm_manifest(vm, "main-class"),
				       strlen(ion_vm_manifest(vm, "main-class"))))
		rc = ion_vm_fail(vm, ION_E_LINK, "%s: main class %s is not in the pack", what,
				 ion_vm_manifest(vm, "main-class"));
	return rc;
}

int ion_vm_load_pack_mem(struct ion_vm *vm, const void *data, size_t len)
{
	return ion_pack_load(vm, data, len, "pack");
}

int ion_vm_load_pack_file(struct ion_vm *vm, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ion_vm_fail(vm, ION_E_IO, "cannot open %s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = cap <= (1u << 30) ? realloc(buf, cap) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				return ion_vm_fail(vm, ION_E_NOMEM, "%s: too large", path);
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return ion_vm_fail(vm, ION_E_IO, "cannot read %s", path);
	}
	int rc = ion_pack_load(vm, buf, len, path);
	free(buf);
	return rc;
}

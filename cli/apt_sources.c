/*
 * apt_sources.c - the Debian mirror this machine's apt already uses, read
 * from /etc/apt/sources.list (one-line format) and sources.list.d/ (*.list,
 * and deb822 *.sources), so `arcvm image debian` never names a mirror host.
 */
#include "cli/apt_sources.h"

#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096

struct pick {
	char exact[APT_URI_MAX];     /* first deb URI listing the suite itself */
	char archive[APT_URI_MAX];   /* first deb URI of a main archive (a suite without '-') */
};

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

static bool has_plain_suite(const char *suites)
{
	char buf[LINE_MAX_LEN];
	snprintf(buf, sizeof(buf), "%s", suites);
	char *save;
	for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		if (!strchr(w, '-'))
			return true;
	return false;
}

/* Records one deb source: its first URI and its suites. */
static void consider(struct pick *p, const char *uris, const char *suites, const char *suite)
{
	char uri[APT_URI_MAX];
	if (sscanf(uris, "%1023s", uri) != 1 || strncmp(uri, "http", 4))
		return;
	size_t n = strlen(uri);
	while (n > 1 && uri[n - 1] == '/')
		uri[--n] = '\0';
	if (!p->exact[0] && word_in(suites, suite))
		snprintf(p->exact, sizeof(p->exact), "%s", uri);
	if (!p->archive[0] && has_plain_suite(suites))
		snprintf(p->archive, sizeof(p->archive), "%s", uri);
}

/* deb [options] URI SUITE COMPONENT... */
static void parse_one_line(struct pick *p, char *line, const char *suite)
{
	char *s = line + strspn(line, " \t");
	if (strncmp(s, "deb", 3) || (s[3] != ' ' && s[3] != '\t'))
		return;
	s += 4;
	s += strspn(s, " \t");
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close)
			return;
		s = close + 1;
		s += strspn(s, " \t");
	}
	char *uri = s;
	char *sp = uri + strcspn(uri, " \t");
	if (!*sp)
		return;
	*sp = '\0';
	char suites[LINE_MAX_LEN];
	if (sscanf(sp + 1, " %4095s", suites) == 1)
		consider(p, uri, suites, suite);
}

struct stanza {
	char types[256], uris[APT_URI_MAX], suites[LINE_MAX_LEN];
	bool disabled;
};

static void finish_stanza(struct pick *p, struct stanza *st, const char *suite)
{
	if (!st->disabled && word_in(st->types, "deb") && st->uris[0])
		consider(p, st->uris, st->suites, suite);
	memset(st, 0, sizeof(*st));
}

static void field(char *dst, size_t len, const char *line, const char *name)
{
	size_t n = strlen(name);
	if (strncasecmp(line, name, n) == 0)
		snprintf(dst, len, "%s", line + n + strspn(line + n, " \t"));
}

/* deb822: "Field: value" lines, stanzas separated by blank lines. */
static void parse_deb822(struct pick *p, FILE *f, const char *suite)
{
	struct stanza st;
	memset(&st, 0, sizeof(st));
	char line[LINE_MAX_LEN];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (!line[strspn(line, " \t")]) {
			finish_stanza(p, &st, suite);
			continue;
		}
		field(st.types, sizeof(st.types), line, "Types:");
		field(st.uris, sizeof(st.uris), line, "URIs:");
		field(st.suites, sizeof(st.suites), line, "Suites:");
		if (strncasecmp(line, "Enabled:", 8) == 0 && strstr(line + 8, "no"))
			st.disabled = true;
	}
	finish_stanza(p, &st, suite);
}

static void parse_file(struct pick *p, const char *path, const char *suite)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	size_t n = strlen(path);
	if (n > 8 && strcmp(path + n - 8, ".sources") == 0) {
		parse_deb822(p, f, suite);
	} else {
		char line[LINE_MAX_LEN];
		while (fgets(line, sizeof(line), f))
			parse_one_line(p, line, suite);
	}
	fclose(f);
}

static void parse_all(struct pick *p, const char *etc_apt, const char *suite)
{
	char path[APT_URI_MAX];
	snprintf(path, sizeof(path), "%s/sources.list", etc_apt);
	parse_file(p, path, suite);
	static const char *const patterns[] = { "sources.list.d/*.list", "sources.list.d/*.sources" };
	for (size_t i = 0; i < 2; i++) {
		glob_t g;
		snprintf(path, sizeof(path), "%s/%s", etc_apt, patterns[i]);
		if (glob(path, 0, NULL, &g) == 0)
			for (size_t j = 0; j < g.gl_pathc; j++)
				parse_file(p, g.gl_pathv[j], suite);
		globfree(&g);
	}
}

int apt_find_mirror(const char *etc_apt, const char *suite, char *out, size_t len)
{
	struct pick p;
	memset(&p, 0, sizeof(p));
	parse_all(&p, etc_apt, suite);
	const char *uri = p.exact[0] ? p.exact : p.archive;
	if (!uri[0])
		return -1;
	snprintf(out, len, "%s", uri);
	return 0;
}

int apt_find_suite(const char *etc_apt, const char *suite, char *out, size_t len)
{
	struct pick p;
	memset(&p, 0, sizeof(p));
	parse_all(&p, etc_apt, suite);
	if (!p.exact[0])
		return -1;
	snprintf(out, len, "%s", p.exact);
	return 0;
}

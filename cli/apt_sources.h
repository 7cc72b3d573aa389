/* apt_sources.h - the Debian mirror named by this machine's apt configuration. */
#ifndef CLI_APT_SOURCES_H
#define CLI_APT_SOURCES_H

#include <stddef.h>

#define APT_URI_MAX 1024

/* Reads ETC_APT/sources.list and ETC_APT/sources.list.d/{*.list,*.sources}
 * and writes to out the first "deb" URI (http or https) that lists `suite`,
 * or failing that the first one of a main archive (a suite with no '-',
 * unlike bookworm-security). Trailing slashes are dropped. Returns -1 when
 * no source qualifies. */
int apt_find_mirror(const char *etc_apt, const char *suite, char *out, size_t len);

/* The first "deb" URI that lists `suite` itself (bookworm-security,
 * bookworm-updates), with no fallback. Returns -1 when none does. */
int apt_find_suite(const char *etc_apt, const char *suite, char *out, size_t len);

#endif

/*
 * image.c - `arcvm image debian`: a Debian root filesystem as an ext4 image
 * that `arcvm exec --image` boots.
 *
 *   1. debootstrap --variant=minbase SUITE STAGE MIRROR, the mirror read from
 *      this machine's apt configuration (apt_sources.c);
 *   2. the image's apt sources: SUITE from the mirror, and SUITE-updates and
 *      SUITE-security where this machine's apt configuration lists them;
 *      then the extra packages with apt-get in a chroot of the stage (so a
 *      package only in -security, such as the guest kernel's
 *      linux-headers, can be had);
 *   3. arcvm-init as /sbin/arcvm-init (and /sbin/init when the image has
 *      none), the guest kernel's modules under /lib/modules/<version> with
 *      the agent's /lib/modules/load-order;
 *   4. mke2fs -d STAGE (no loop mount, no root needed for this step), then
 *      e2fsck -fn so a bad image fails here, not in a guest.
 *
 * Images are cached under the cache folder by a key over every input
 * (recipe version, suite, mirrors, packages, size, the arcvm-init binary, the
 * kernel release and module list), so a second build with the same inputs
 * only copies the cached image to -o (a reflink where the filesystem can,
 * else a sparse copy).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/apt_sources.h"
#include "cli/cli.h"
#include "cli/progress.h"

#define IMAGE_RECIPE "arcvm-debian-2"   /* bump when the steps below change */
#define DEFAULT_SUITE "bookworm"
#define DEFAULT_SIZE "2G"
#define MIN_SIZE (64ull << 20)
#define MAX_PACKAGES_LEN 4096

struct image_opts {
	const char *suite, *packages, *mirror, *out, *cache;
	uint64_t size;
	char mirror_buf[APT_URI_MAX];
	char updates[APT_URI_MAX], security[APT_URI_MAX];   /* "" when not listed */
	char packages_buf[MAX_PACKAGES_LEN];   /* sorted, comma-separated */
};

static void image_usage(FILE *f)
{
	fputs("usage: arcvm image debian [--suite SUITE] [--packages P1,P2,...] [--size SIZE]\n"
	      "                          [--mirror URL] [--cache DIR] -o FILE\n"
	      "Builds a Debian root filesystem (debootstrap, minbase) into an ext4 image with\n"
	      "arcvm-init as its init and the guest kernel's modules, for arcvm exec --image.\n\n"
	      "  --suite SUITE      Debian release (default bookworm)\n"
	      "  --packages LIST    extra packages, comma-separated (installed with apt from\n"
	      "                     SUITE, SUITE-updates and SUITE-security as this\n"
	      "                     machine's apt sources list them)\n"
	      "  --size SIZE        image size (default 2G; at least 64M)\n"
	      "  --mirror URL       Debian mirror (default: the one in /etc/apt/sources.list*)\n"
	      "  --cache DIR        image cache (default $ARCVM_CACHE_DIR, else image-cache\n"
	      "                     next to the built-in guest)\n"
	      "  -o, --output FILE  where the image goes\n\n"
	      "Needs root (debootstrap) and the built-in guest (make guest).\n", f);
}

/* ---- inputs ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Debian package names: [a-z0-9][a-z0-9+.-]+. Sorted and deduplicated, so
 * the same set in any order hits the same cache entry. */
static int normalize_packages(const char *list, char *out, size_t len)
{
	char buf[MAX_PACKAGES_LEN];
	char *names[512];
	int n = 0;
	if (strlen(list) >= sizeof(buf)) {
		cli_error("--packages is too long");
		return -1;
	}
	strcpy(buf, list);
	char *save;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t l = strlen(w);
		bool ok = l >= 2 && ((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= '0' && w[0] <= '9'));
		for (size_t i = 1; ok && i < l; i++)
			ok = (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') ||
			     strchr("+.-", w[i]);
		if (!ok) {
			cli_error("bad package name '%s' in --packages", w);
			return -1;
		}
		if (n == (int)(sizeof(names) / sizeof(names[0]))) {
			cli_error("too many packages in --packages");
			return -1;
		}
		names[n++] = w;
	}
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (out[0])
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, names[i], len - strlen(out) - 1);
	}
	return 0;
}

static int parse_image_args(int argc, char **argv, struct image_opts *o)
{
	static const struct option opts[] = {
		{ "suite", required_argument, 0, 's' }, { "packages", required_argument, 0, 'p' },
		{ "size", required_argument, 0, 'z' }, { "mirror", required_argument, 0, 'm' },
		{ "cache", required_argument, 0, 'c' }, { "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *size = DEFAULT_SIZE;
	o->suite = DEFAULT_SUITE;
	o->packages = "";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->suite = optarg; break;
		case 'p': o->packages = optarg; break;
		case 'z': size = optarg; break;
		case 'm': o->mirror = optarg; break;
		case 'c': o->cache = optarg; break;
		case 'o': o->out = optarg; break;
		case 'h': image_usage(stdout); exit(CLI_OK);
		default: image_usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->out) {
		cli_error("no output file given (-o FILE)");
		return -1;
	}
	if (!*o->suite || strspn(o->suite, "abcdefghijklmnopqrstuvwxyz-") != strlen(o->suite)) {
		cli_error("bad --suite '%s': expected a Debian release name such as bookworm", o->suite);
		return -1;
	}
	struct arcvm_error err;
	if (arcvm_parse_size(size, &o->size, &err)) {
		cli_error("bad --size '%s': %s", size, err.msg);
		return -1;
	}
	if (o->size < MIN_SIZE || o->size % 4096) {
		cli_error("bad --size '%s': an image is at least 64M and a multiple of 4K", size);
		return -1;
	}
	return normalize_packages(o->packages, o->packages_buf, sizeof(o->packages_buf));
}

/* snprintf for paths: a path that does not fit is an error, never cut. */
static int pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		cli_error("path too long: %.60s...", out);
		return -1;
	}
	return 0;
}

/* ---- the cache key ----------------------------------------------------- */

/* FNV-1a, 64 bits: a cache key, not a defence against forgery. */
static void fnv(uint64_t *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ull;
	}
}

static void fnv_str(uint64_t *h, const char *s)
{
	fnv(h, s, strlen(s) + 1);   /* the NUL separates fields */
}

static int fnv_file(uint64_t *h, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		cli_error("cannot read %s: %s (run 'make guest')", path, strerror(errno));
		return -1;
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fnv(h, buf, n);
	fclose(f);
	return 0;
}

struct guest_parts {
	char agent[PATH_MAX], release_file[PATH_MAX], load_order[PATH_MAX], moddir[PATH_MAX];
	char net_up[PATH_MAX], busybox[PATH_MAX];
	char release[128];
};

static int find_guest_parts(struct guest_parts *g)
{
	const char *dir = cli_guest_dir();
	snprintf(g->agent, sizeof(g->agent), "%s/arcvm-init", dir);
	snprintf(g->release_file, sizeof(g->release_file), "%s/kernel.release", dir);
	snprintf(g->load_order, sizeof(g->load_order), "%s/load-order", dir);
	snprintf(g->net_up, sizeof(g->net_up), "%s/arcvm-net", dir);
	snprintf(g->busybox, sizeof(g->busybox), "%s/busybox", dir);
	FILE *f = fopen(g->release_file, "re");
	if (!f || !fgets(g->release, sizeof(g->release), f)) {
		cli_error("no built-in guest kernel in %s (run 'make guest')", dir);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	g->release[strcspn(g->release, "\n")] = '\0';
	snprintf(g->moddir, sizeof(g->moddir), "%s/modules/lib/modules/%s", dir, g->release);
	if (access(g->moddir, R_OK) || access(g->agent, R_OK) || access(g->load_order, R_OK) ||
	    access(g->net_up, R_OK) || access(g->busybox, R_OK)) {
		cli_error("the built-in guest in %s lacks arcvm-init, arcvm-net, busybox, load-order"
			  " or the modules of "
			  "%s (run 'make guest')", dir, g->release);
		return -1;
	}
	return 0;
}

static int cache_key(const struct image_opts *o, const struct guest_parts *g, uint64_t *key)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char size[32];
	snprintf(size, sizeof(size), "%llu", (unsigned long long)o->size);
	fnv_str(&h, IMAGE_RECIPE);
	fnv_str(&h, o->suite);
	fnv_str(&h, o->mirror);
	fnv_str(&h, o->updates);
	fnv_str(&h, o->security);
	fnv_str(&h, o->packages_buf);
	fnv_str(&h, size);
	fnv_str(&h, g->release);
	if (fnv_file(&h, g->agent) || fnv_file(&h, g->load_order) || fnv_file(&h, g->net_up) ||
	    fnv_file(&h, g->busybox))
		return -1;
	*key = h;
	return 0;
}

static int cache_dir(const struct image_opts *o, char *out, size_t len)
{
	const char *env = getenv("ARCVM_CACHE_DIR");
	if (o->cache)
		snprintf(out, len, "%s", o->cache);
	else if (env && *env)
		snprintf(out, len, "%s", env);
	else
		snprintf(out, len, "%s/../image-cache", cli_guest_dir());
	if (mkdir(out, 0755) && errno != EEXIST) {
		cli_error("cannot create the image cache %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- copying out ------------------------------------------------------- */

/* Copies src to dst: a reflink when the filesystem shares extents, else the
 * data extents only (holes stay holes). Written under a temporary name. */
static int copy_image(const char *src, const char *dst)
{
	char tmp[PATH_MAX];
	if (pathf(tmp, sizeof(tmp), "%s.arcvm-tmp", dst))
		return -1;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct stat st;
	int rc = -1;
	if (in < 0 || out < 0 || fstat(in, &st) < 0) {
		cli_error("cannot copy %s to %s: %s", src, dst, strerror(errno));
		goto out;
	}
	if (ioctl(out, FICLONE, in) == 0) {
		rc = 0;
		goto out;
	}
	if (ftruncate(out, st.st_size) < 0) {
		cli_error("cannot size %s: %s", tmp, strerror(errno));
		goto out;
	}
	for (off_t pos = 0; pos < st.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0)
			break;   /* ENXIO: only a hole is left */
		off_t hole = lseek(in, data, SEEK_HOLE);
		for (off_t o = data; o < hole;) {
			ssize_t n = copy_file_range(in, &o, out, &(off_t){ o }, (size_t)(hole - o), 0);
			if (n <= 0) {
				cli_error("cannot copy %s to %s: %s", src, dst,
					  n < 0 ? strerror(errno) : "short copy");
				goto out;
			}
		}
		pos = hole;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0) {
		cli_error("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, dst) < 0) {
		cli_error("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(tmp);
	return rc;
}

/* ---- building ---------------------------------------------------------- */

/* debootstrap's own stage lines ("I: Retrieving Release", "I: Installing
 * core packages..."), not its one-per-package lines. */
static bool debootstrap_milestone(const char *line)
{
	static const char *const per_package[] = {
		"I: Retrieving ", "I: Validating ", "I: Extracting ", "I: Unpacking ",
		"I: Configuring ",
	};
	if (strncmp(line, "I: ", 3) && strncmp(line, "W: ", 3) && strncmp(line, "E: ", 3))
		return false;
	for (size_t i = 0; i < sizeof(per_package) / sizeof(per_package[0]); i++)
		if (strncmp(line, per_package[i], strlen(per_package[i])) == 0 &&
		    !strstr(line, "Release") && !strstr(line, "Packages"))
			return false;
	return true;
}

static int run(struct progress *p, bool (*milestone)(const char *), const char *a0, ...)
{
	char *argv[16];
	int n = 0;
	va_list ap;
	va_start(ap, a0);
	for (const char *a = a0; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return progress_run(p, argv, milestone);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* arcvm-init, the guest kernel's modules and the agent's module list. */
static int install_arcvm_parts(struct progress *p, const char *stage,
			       const struct guest_parts *g)
{
	char mods[PATH_MAX], path[PATH_MAX];
	if (pathf(mods, sizeof(mods), "%s/lib/modules", stage))
		return -1;
	if (mkdir(mods, 0755) && errno != EEXIST) {
		cli_error("cannot create %s: %s", mods, strerror(errno));
		return -1;
	}
	if (pathf(path, sizeof(path), "%s/load-order", mods))
		return -1;
	if (run(p, NULL, "cp", "-a", g->moddir, mods, NULL) ||
	    run(p, NULL, "cp", g->load_order, path, NULL))
		return -1;
	if (pathf(path, sizeof(path), "%s/sbin/arcvm-init", stage))
		return -1;
	if (run(p, NULL, "install", "-m", "0755", g->agent, path, NULL))
		return -1;
	/* The agent's network setup (guest/net-up.sh) and the busybox it falls
	 * back on for ip and udhcpc, which minbase lacks. */
	if (pathf(path, sizeof(path), "%s/bin/arcvm-net", stage) ||
	    run(p, NULL, "install", "-m", "0755", g->net_up, path, NULL) ||
	    pathf(path, sizeof(path), "%s/usr/lib/arcvm/busybox", stage) ||
	    run(p, NULL, "install", "-D", "-m", "0755", g->busybox, path, NULL))
		return -1;
	/* minbase has no init system: arcvm-init is the image's init. An image
	 * that brings its own (systemd-sysv) keeps it; arcvm exec names
	 * /sbin/arcvm-init on the command line either way. */
	struct stat st;
	if (pathf(path, sizeof(path), "%s/sbin/init", stage))
		return -1;
	if (lstat(path, &st) < 0 && symlink("arcvm-init", path) < 0) {
		cli_error("cannot link %s: %s", path, strerror(errno));
		return -1;
	}
	if (pathf(path, sizeof(path), "%s/etc/hostname", stage))
		return -1;
	return write_file(path, "arcvm\n");
}

static int make_sized_file(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		cli_error("cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The stage's /etc/apt/sources.list: the image can install more later
 * (arcvm exec --net --persist ... apt-get install). */
static int write_sources(const struct image_opts *o, const char *stage)
{
	char path[PATH_MAX], text[4 * APT_URI_MAX];
	if (pathf(path, sizeof(path), "%s/etc/apt/sources.list", stage))
		return -1;
	int n = snprintf(text, sizeof(text), "deb %s %s main\n", o->mirror, o->suite);
	if (o->updates[0])
		n += snprintf(text + n, sizeof(text) - (size_t)n, "deb %s %s-updates main\n",
			      o->updates, o->suite);
	if (o->security[0])
		snprintf(text + n, sizeof(text) - (size_t)n, "deb %s %s-security main\n",
			 o->security, o->suite);
	return write_file(path, text);
}

/* apt-get in a chroot of the stage (debootstrap left it a resolv.conf);
 * no recommends, as debootstrap's --include would; the downloaded .debs and
 * package lists are dropped so the image carries only what is installed. */
static int install_packages(const struct image_opts *o, const char *stage, struct progress *p)
{
	if (!o->packages_buf[0])
		return 0;
	char list[MAX_PACKAGES_LEN], lists[PATH_MAX], *save;
	char *argv[16 + MAX_PACKAGES_LEN / 3];
	int n = 0;
	if (pathf(lists, sizeof(lists), "%s/var/lib/apt/lists", stage) ||
	    run(p, NULL, "chroot", stage, "apt-get", "-q", "update", NULL))
		return -1;
	snprintf(list, sizeof(list), "%s", o->packages_buf);
	const char *head[] = { "chroot", stage, "env", "DEBIAN_FRONTEND=noninteractive",
			       "apt-get", "-q", "-y", "--no-install-recommends", "install" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		argv[n++] = (char *)head[i];
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save))
		argv[n++] = w;   /* fits: a name takes at least 3 bytes of the list */
	argv[n] = NULL;
	if (progress_run(p, argv, NULL) ||
	    run(p, NULL, "chroot", stage, "apt-get", "clean", NULL))
		return -1;
	return run(p, NULL, "find", lists, "-mindepth", "1", "-delete", NULL);
}

static int build_image(const struct image_opts *o, const struct guest_parts *g,
		       const char *cached, struct progress *p)
{
	char stage[PATH_MAX], tmp[PATH_MAX];
	if (pathf(stage, sizeof(stage), "%s.d", cached) || pathf(tmp, sizeof(tmp), "%s.tmp", cached))
		return -1;

	progress_step(p, "debootstrap");
	if (run(p, NULL, "rm", "-rf", stage, NULL) ||
	    run(p, debootstrap_milestone, "debootstrap", "--variant=minbase", o->suite, stage,
		o->mirror, NULL))
		return -1;
	progress_step(p, o->packages_buf[0] ? "packages" : "apt sources");
	if (write_sources(o, stage) || install_packages(o, stage, p))
		return -1;
	progress_step(p, "arcvm-init and kernel modules");
	if (install_arcvm_parts(p, stage, g))
		return -1;
	progress_step(p, "mke2fs");
	if (make_sized_file(tmp, o->size) ||
	    run(p, NULL, "mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "arcvm-debian",
		"-E", "root_owner=0:0", "-d", stage, tmp, NULL) ||
	    run(p, NULL, "e2fsck", "-fn", tmp, NULL)) {
		unlink(tmp);
		cli_error("the root filesystem does not fit in %llu MiB? (see --size)",
			  (unsigned long long)(o->size >> 20));
		return -1;
	}
	if (rename(tmp, cached) < 0) {
		cli_error("cannot rename %s to %s: %s", tmp, cached, strerror(errno));
		return -1;
	}
	return run(p, NULL, "rm", "-rf", stage, NULL);
}

/* debootstrap, mke2fs and e2fsck live in /usr/sbin, which a user's PATH may lack. */
static void add_sbin_to_path(void)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX * 2];
	if (path && strstr(path, "/usr/sbin"))
		return;
	snprintf(buf, sizeof(buf), "%s%s/usr/sbin:/sbin", path ? path : "/usr/bin:/bin",
		 path && *path ? ":" : "");
	setenv("PATH", buf, 1);
}

static int image_from_cache_or_build(const struct image_opts *o, const struct guest_parts *g,
				     const char *cached, struct progress *p)
{
	if (access(cached, R_OK) == 0) {
		if (copy_image(cached, o->out))
			return CLI_ERROR;
		fprintf(stderr, "arcvm image: %s from the cache (%s) in %.1f s\n", o->out, cached,
			progress_elapsed(p));
		return CLI_OK;
	}
	if (geteuid() != 0) {
		cli_error("building a Debian image needs root (debootstrap); run arcvm image as root");
		return CLI_ERROR;
	}
	add_sbin_to_path();
	fprintf(stderr, "arcvm image: Debian %s from %s%s%s, %llu MiB, kernel %s\n", o->suite,
		o->mirror, o->packages_buf[0] ? " with " : "", o->packages_buf,
		(unsigned long long)(o->size >> 20), g->release);
	if (build_image(o, g, cached, p) || copy_image(cached, o->out))
		return CLI_ERROR;
	progress_done(p, "built and cached");
	return CLI_OK;
}

static int image_debian(struct image_opts *o)
{
	if (!o->mirror) {
		if (apt_find_mirror("/etc/apt", o->suite, o->mirror_buf, sizeof(o->mirror_buf))) {
			cli_error("no Debian mirror for %s in /etc/apt/sources.list*: pass --mirror URL",
				  o->suite);
			return CLI_ERROR;
		}
		o->mirror = o->mirror_buf;
	}
	char suite[64];
	snprintf(suite, sizeof(suite), "%s-updates", o->suite);
	if (apt_find_suite("/etc/apt", suite, o->updates, sizeof(o->updates)))
		o->updates[0] = '\0';
	snprintf(suite, sizeof(suite), "%s-security", o->suite);
	if (apt_find_suite("/etc/apt", suite, o->security, sizeof(o->security)))
		o->security[0] = '\0';
	struct guest_parts g;
	uint64_t key;
	char dir[PATH_MAX], cached[PATH_MAX];
	if (find_guest_parts(&g) || cache_key(o, &g, &key) || cache_dir(o, dir, sizeof(dir)))
		return CLI_ERROR;
	if (pathf(cached, sizeof(cached), "%s/debian-%s-%016llx.ext4", dir, o->suite,
		  (unsigned long long)key))
		return CLI_ERROR;
	struct progress p;
	progress_init(&p, 4);
	/* Two builds of the same image would share one staging folder: the
	 * second waits, then finds the first one's result in the cache. */
	char lock[PATH_MAX];
	if (pathf(lock, sizeof(lock), "%s.lock", cached))
		return CLI_ERROR;
	int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "arcvm image: waiting for another build of the same image\n");
		flock(lock_fd, LOCK_EX);
	}
	int status = image_from_cache_or_build(o, &g, cached, &p);
	if (lock_fd >= 0)
		close(lock_fd);   /* drops the lock */
	return status;
}

int cli_image(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		image_usage(stdout);
		return CLI_OK;
	}
	if (argc < 2 || strcmp(argv[1], "debian")) {
		cli_error("arcvm image builds 'debian' images only (arcvm image debian --help)");
		return CLI_USAGE;
	}
	struct image_opts o;
	memset(&o, 0, sizeof(o));
	if (parse_image_args(argc - 1, argv + 1, &o))
		return CLI_USAGE;
	return image_debian(&o);
}

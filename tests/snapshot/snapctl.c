/*
 * snapctl.c - a test and benchmark driver for snapshots, on top of libarcvm:
 * boots a VM, then runs steps in order on its serial console and lifecycle,
 * and exits, so that a test can restore the snapshot in another process
 * (`arcvm snapshot restore DIR`).
 *
 *   snapctl [MACHINE OPTIONS] STEP...
 *   machine: --bios FILE | --kernel FILE [--initrd FILE] [--cmdline STR]
 *            [--mem SIZE] [--cpus N] [--drive PATH[:ro]] [--share HOST:TAG[:ro]]
 *            [--vsock PATH] [--rng] [--virtio-console] [--track-dirty] [--allow-pvm]
 *            [--timeout SECONDS] (for each --expect; default 120)
 *   steps:   --expect TEXT    wait until the console printed TEXT (after the last match)
 *            --send TEXT      type TEXT on the console (\n, \r, \\ are escapes)
 *            --snapshot DIR   pause, write DIR/state and DIR/memory (full)
 *            --diff DIR       pause, write a diff snapshot into DIR
 *            --resume         resume after a snapshot
 *            --vsock-ready P  wait until a guest program accepts a vsock connection
 *                             on port P (Firecracker's "CONNECT P"), then hang up
 *            --quiet MS       wait until the console has printed nothing for MS ms,
 *                             so a snapshot does not catch the guest mid-message
 *
 * The guest's console output is copied to stdout. Each snapshot prints a
 * line "snapctl: snapshot DIR: pause P ms, write W ms, rss-overhead K KiB"
 * on stderr: K is the peak resident memory during the snapshot less the
 * resident memory before it (/proc/self/clear_refs resets the peak).
 * Exit status: 0 when every step succeeded, 1 otherwise, 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "arcvm.h"

#define OUT_MAX (1 << 20)
#define BIOS_END 0x100000ull
#define BIOS_RESET_VECTOR 0xFFFF0ull
#define BIOS_MAX (64u << 10)

struct ctl {
	struct arcvm_config cfg;
	struct arcvm_vm *vm;
	int out_rd, in_wr;          /* our ends of the console pipes */
	char out[OUT_MAX];          /* console output not yet matched */
	size_t out_len, matched;
	unsigned long long out_total;  /* bytes the console printed */
	int timeout_s;
	uint8_t bios[BIOS_MAX];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "snapctl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* Reads console output for at most ms milliseconds; false on EOF. */
static bool pump(struct ctl *c, int ms)
{
	struct pollfd p = { .fd = c->out_rd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return true;
	char buf[4096];
	ssize_t n = read(c->out_rd, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && errno == EINTR;
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	c->out_total += (unsigned long long)n;
	if (c->out_len + (size_t)n > sizeof(c->out) - 1) {
		/* Keep the unmatched tail; old output cannot match any more. */
		size_t keep = c->out_len - c->matched;
		memmove(c->out, c->out + c->matched, keep);
		c->out_len = keep;
		c->matched = 0;
		if (keep + (size_t)n > sizeof(c->out) - 1)
			c->out_len = c->matched = 0;
	}
	memcpy(c->out + c->out_len, buf, (size_t)n);
	c->out_len += (size_t)n;
	c->out[c->out_len] = '\0';
	return true;
}

static int step_expect(struct ctl *c, const char *text)
{
	double deadline = now_ms() + c->timeout_s * 1000.0;
	for (;;) {
		char *hit = strstr(c->out + c->matched, text);
		if (hit) {
			c->matched = (size_t)(hit - c->out) + strlen(text);
			return 0;
		}
		if (now_ms() > deadline)
			return die("no \"%s\" on the console in time", text);
		if (!pump(c, 100))
			return die("the console closed before \"%s\"", text);
	}
}

static int step_quiet(struct ctl *c, const char *arg)
{
	char *end;
	long ms = strtol(arg, &end, 10);
	if (*arg == '\0' || *end || ms < 1 || ms > 60000)
		return die("--quiet: expected milliseconds from 1 to 60000, not '%s'", arg);
	double deadline = now_ms() + c->timeout_s * 1000.0, since = now_ms();
	for (;;) {
		unsigned long long before = c->out_total;
		if (!pump(c, 20))
			return die("the console closed while waiting for it to go quiet");
		if (c->out_total != before)
			since = now_ms();
		else if (now_ms() - since >= (double)ms)
			return 0;
		if (now_ms() > deadline)
			return die("the console did not stay quiet for %ld ms in time", ms);
	}
}

static int step_send(struct ctl *c, const char *text)
{
	char buf[4096];
	size_t n = 0;
	for (const char *p = text; *p && n < sizeof(buf); p++) {
		if (*p == '\\' && p[1]) {
			p++;
			buf[n++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
		} else {
			buf[n++] = *p;
		}
	}
	return write(c->in_wr, buf, n) == (ssize_t)n ? 0 : die("cannot type \"%s\"", text);
}

/* VmRSS or VmHWM from /proc/self/status, in KiB. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "5", 1) != 1) {
			/* Older kernels: the peak then covers the whole run. */
		}
		close(fd);
	}
}

static int step_snapshot(struct ctl *c, const char *dir, enum arcvm_snapshot_type type)
{
	struct arcvm_error err;
	char state[4096], mem[4096];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return die("cannot create %s", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(mem, sizeof(mem), "%s/memory", dir);
	double t0 = now_ms();
	if (arcvm_vm_state(c->vm) != ARCVM_STATE_PAUSED && arcvm_vm_pause(c->vm, &err))
		return die("pause: %s", err.msg);
	double t1 = now_ms();
	long rss = status_kib("VmRSS:");
	reset_peak_rss();
	if (arcvm_vm_snapshot(c->vm, type, state, mem, &err))
		return die("snapshot: %s", err.msg);
	double t2 = now_ms();
	long peak = status_kib("VmHWM:");
	fprintf(stderr, "snapctl: snapshot %s: pause %.3f ms, write %.3f ms, rss-overhead %ld KiB\n",
		dir, t1 - t0, t2 - t1, peak > rss ? peak - rss : 0);
	return 0;
}

/* One attempt: true when the guest accepted the connection. */
static bool vsock_accepts(const char *uds, const char *port)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %s\n", port);
	bool ok = false;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, line, (size_t)n) == n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got = poll(&p, 1, 2000) == 1 ? read(fd, line, 3) : -1;
		ok = got == 3 && memcmp(line, "OK ", 3) == 0;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

static int step_vsock_ready(struct ctl *c, const char *port)
{
	if (!c->cfg.vsock_uds_path)
		return die("--vsock-ready needs --vsock");
	double deadline = now_ms() + c->timeout_s * 1000.0;
	while (!vsock_accepts(c->cfg.vsock_uds_path, port)) {
		if (now_ms() > deadline)
			return die("nothing accepted vsock port %s in time", port);
		pump(c, 100);
	}
	return 0;
}

static int step_resume(struct ctl *c)
{
	struct arcvm_error err;
	return arcvm_vm_resume(c->vm, &err) ? die("resume: %s", err.msg) : 0;
}

static int load_bios(struct ctl *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return die("cannot open %s", path);
	size_t n = fread(c->bios, 1, sizeof(c->bios), f);
	fclose(f);
	c->cfg.boot = ARCVM_BOOT_RAW16;
	c->cfg.mem_size = 2u << 20;
	c->cfg.raw_image = c->bios;
	c->cfg.raw_size = n;
	c->cfg.raw_load_addr = BIOS_END - n;
	c->cfg.raw_entry = BIOS_RESET_VECTOR;
	return n < 16 ? die("firmware %s is too short", path) : 0;
}

/* "PATH[:ro]" and "HOST:TAG[:ro]": a trailing ":ro" is cut off. */
static bool cut_ro(char *s)
{
	size_t n = strlen(s);
	if (n > 3 && strcmp(s + n - 3, ":ro") == 0) {
		s[n - 3] = '\0';
		return true;
	}
	return false;
}

static int machine_option(struct ctl *c, const char *opt, char *arg)
{
	struct arcvm_config *cfg = &c->cfg;
	struct arcvm_error err;
	if (!strcmp(opt, "--bios"))
		return load_bios(c, arg);
	if (!strcmp(opt, "--kernel")) cfg->kernel_path = arg;
	else if (!strcmp(opt, "--initrd")) cfg->initrd_path = arg;
	else if (!strcmp(opt, "--cmdline")) cfg->cmdline = arg;
	else if (!strcmp(opt, "--cpus")) cfg->cpus = atoi(arg);
	else if (!strcmp(opt, "--timeout")) c->timeout_s = atoi(arg);
	else if (!strcmp(opt, "--vsock")) { cfg->vsock_uds_path = arg; cfg->vsock_cid = 3; }
	else if (!strcmp(opt, "--mem")) {
		if (arcvm_parse_size(arg, &cfg->mem_size, &err))
			return die("--mem: %s", err.msg);
	} else if (!strcmp(opt, "--drive") && cfg->ndrives < ARCVM_MAX_DRIVES) {
		bool ro = cut_ro(arg);
		cfg->drives[cfg->ndrives++] = (struct arcvm_drive){ .path = arg, .read_only = ro };
	} else if (!strcmp(opt, "--share") && cfg->nshares < ARCVM_MAX_SHARES) {
		bool ro = cut_ro(arg);
		char *tag = strrchr(arg, ':');
		if (!tag)
			return die("--share %s: give HOST:TAG", arg);
		*tag++ = '\0';
		cfg->shares[cfg->nshares++] = (struct arcvm_share){
			.host_path = arg, .tag = tag, .read_only = ro,
		};
	} else {
		return die("unknown option %s", opt);
	}
	return 0;
}

static bool is_flag(struct ctl *c, const char *opt)
{
	if (!strcmp(opt, "--rng")) c->cfg.rng = true;
	else if (!strcmp(opt, "--virtio-console")) c->cfg.console = ARCVM_CONSOLE_VIRTIO;
	else if (!strcmp(opt, "--track-dirty")) c->cfg.track_dirty_pages = true;
	else if (!strcmp(opt, "--allow-pvm")) c->cfg.allow_pvm = true;
	else return false;
	return true;
}

static bool is_step(const char *opt)
{
	return !strcmp(opt, "--expect") || !strcmp(opt, "--send") || !strcmp(opt, "--snapshot") ||
	       !strcmp(opt, "--diff") || !strcmp(opt, "--resume") || !strcmp(opt, "--vsock-ready") ||
	       !strcmp(opt, "--quiet");
}

static int run_step(struct ctl *c, const char *opt, const char *arg)
{
	if (!strcmp(opt, "--expect")) return step_expect(c, arg);
	if (!strcmp(opt, "--send")) return step_send(c, arg);
	if (!strcmp(opt, "--snapshot")) return step_snapshot(c, arg, ARCVM_SNAPSHOT_FULL);
	if (!strcmp(opt, "--diff")) return step_snapshot(c, arg, ARCVM_SNAPSHOT_DIFF);
	if (!strcmp(opt, "--vsock-ready")) return step_vsock_ready(c, arg);
	if (!strcmp(opt, "--quiet")) return step_quiet(c, arg);
	return step_resume(c);
}

static int start(struct ctl *c)
{
	int out[2], in[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		return die("pipe: %s", strerror(errno));
	c->out_rd = out[0];
	c->in_wr = in[1];
	c->cfg.console_out_fd = out[1];
	c->cfg.console_in_fd = in[0];
	struct arcvm_error err;
	if (arcvm_vm_create(&c->cfg, &c->vm, &err) || arcvm_vm_boot(c->vm, &err))
		return die("%s", err.msg);
	return 0;
}

int main(int argc, char **argv)
{
	static struct ctl c;
	arcvm_config_init(&c.cfg);
	c.timeout_s = 120;
	int i = 1;
	for (; i < argc && !is_step(argv[i]); i++) {
		if (is_flag(&c, argv[i]))
			continue;
		if (i + 1 >= argc || strncmp(argv[i], "--", 2))
			return die("usage: see the comment at the top of tests/snapshot/snapctl.c") + 1;
		if (machine_option(&c, argv[i], argv[i + 1]))
			return 2;
		i++;
	}
	if (start(&c))
		return 1;
	int rc = 0;
	for (; !rc && i < argc; i++) {
		bool takes_arg = strcmp(argv[i], "--resume") != 0;
		if (!is_step(argv[i]) || (takes_arg && i + 1 >= argc)) {
			rc = die("bad step %s", argv[i]);
			break;
		}
		rc = run_step(&c, argv[i], takes_arg ? argv[i + 1] : NULL);
		if (takes_arg)
			i++;
	}
	arcvm_vm_destroy(c.vm);
	return rc;
}

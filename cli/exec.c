/*
 * exec.c - `arcvm exec`: run one command in a fresh micro-VM and return its
 * output and exit status.
 *
 * The VM boots the built-in guest with /sbin/arcvm-init as PID 1 (rdinit),
 * host folders as 9p shares, and a vsock whose host end is a Unix socket in
 * a private temporary folder. arcvm connects to the agent there, runs the
 * protocol (exec_session.c), fetches --copy-out files, asks the agent to
 * power off and waits (bounded) for the VM to stop. The temporary folder,
 * the terminal mode and the VM are undone on every exit path.
 *
 * Exit status: the command's own, 128+N when it died of signal N, 124 when
 * --timeout killed it, 125 when arcvm itself could not run it (docs/cli.md).
 *
 * `arcvm call` is the same run with a CALL instead of an EXEC: its own
 * options, the pack and the result are handled in call.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/call.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/drive_opt.h"
#include "cli/exec_session.h"
#include "cli/shm_bell.h"
#include "virtio/vsock_uds.h"

#define EXEC_PANIC_STATUS 123       /* the guest kernel panicked before CMD finished */
#define EXEC_TIMEOUT_STATUS 124
#define EXEC_FAILED 125
#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 pci=off quiet"
#define AGENT_CMDLINE "arcvm.agent=1 arcvm.modules=1 rdinit=/sbin/arcvm-init"
/* --image: the initramfs's /init loads the drivers and switches to the disk
 * (an overlay over it unless --persist), whose arcvm-init is then PID 1. */
#define IMAGE_CMDLINE "arcvm.modules=1 arcvm.init=/sbin/arcvm-init"
#define MAX_COPY_OUT 16
#define DEFAULT_BOOT_TIMEOUT 120    /* s: until the agent answers; the test host is slow */
#define POWEROFF_WAIT_MS 10000      /* after SHUTDOWN, before a hard stop */
#define COPY_IDLE_MS 60000          /* between two frames of a copied file */
#define LOG_TAIL 3000               /* bytes of the console log shown on failure */

struct exec_opts {
	struct arcvm_config cfg;
	struct cli_file_config file;   /* --config; owns the strings cfg borrows */
	struct cli_share shares[ARCVM_MAX_SHARES];
	int nshares;
	const char *env[CLI_MAX_ENV * 2];
	int nenv;
	const char *workdir;
	bool user;
	uint32_t uid, gid;
	long timeout, boot_timeout;
	bool tty;
	const char *image;             /* --image: root disk (ext4 with /sbin/arcvm-init) */
	bool persist;                  /* --persist: the guest writes to the image itself */
	const char *copy_guest[MAX_COPY_OUT], *copy_host[MAX_COPY_OUT];
	int ncopy;
	int verbose;
	const char *from_snapshot;     /* --from-snapshot DIR */
	const char *machine_opt;       /* an option that shapes the VM, refused with a snapshot */
	struct cli_net net;            /* --net, --publish, or the file's "network" */
	struct cli_shm shm;            /* --shared-mem, or the file's "shared_mem" */
	char **argv;                   /* the command */
	int argc;
	struct call_opts *call;        /* arcvm call: the pack and its arguments; NULL for exec */
};

/* What must be undone; filled as it is acquired. */
struct exec_run {
	char dir[64];                  /* private temporary folder, "" when none */
	char uds[96];                  /* fits sockaddr_un with "_PORT" added */
	char log[128];
	int log_fd;
	struct arcvm_vm *vm;
	bool tty_raw;
	struct termios saved_tty;
};

static int wake_pipe[2] = { -1, -1 };
static struct arcvm_vm *volatile signal_vm;

/* Signals go to the session loop through a pipe, one byte each. */
static void on_signal(int sig)
{
	int saved = errno;
	uint8_t b = (uint8_t)sig;
	if (write(wake_pipe[1], &b, 1) < 0) {
		/* The pipe is full: the loop has plenty to wake up for already. */
	}
	errno = saved;
}

static void exec_usage(FILE *f)
{
	fputs("usage: arcvm exec [OPTIONS] -- CMD [ARGS...]\n"
	      "Runs CMD in a fresh micro-VM and exits with its status.\n\n"
	      "  --cpus N               vCPUs (default 1)\n"
	      "  --mem SIZE             guest memory (default 512M)\n"
	      "  --kernel PATH          guest kernel (default: the built-in image)\n"
	      "  --initrd PATH          initramfs (must hold /sbin/arcvm-init)\n"
	      "  --image FILE           boot FILE (arcvm image debian) as the root disk; the\n"
	      "                         guest's writes go to a throw-away overlay\n"
	      "  --persist              with --image: keep the guest's writes in FILE\n"
	      "  --share HOST:GUEST[:ro|rw]  share a host folder (repeatable; default rw)\n"
	      "  --net [MODE][,ip=ADDR/N|dhcp][,gw=ADDR][,dns=ADDR][,mac=MAC]\n"
	      "                         network as eth0: user (default; NAT, 10.0.2.15) or\n"
	      "                         tap=NAME (a host TAP device); see docs/net.md\n"
	      "  --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]\n"
	      "                         forward a host port (127.0.0.1 by default) to the\n"
	      "                         guest (repeatable; implies --net user)\n"
	      "  --shared-mem SIZE[,path=FILE|,fd=N]\n"
	      "                         memory shared with the guest without copying\n"
	      "                         (arcvm-shm in the guest); path= shares it with other\n"
	      "                         processes and VMs; see docs/shared-memory.md\n"
	      "  --env K=V              set a variable for CMD (repeatable)\n"
	      "  --workdir DIR          CMD's working folder in the guest (default /)\n"
	      "  --user UID[:GID]       run CMD as this numeric user (default root)\n"
	      "  --timeout SECS         kill CMD and the VM after SECS; exit status 124\n"
	      "  -t, --tty              run CMD on a pty (interactive shells)\n"
	      "  --copy-out GUEST:HOST  fetch a guest file after CMD ends (repeatable)\n"
	      "  --config FILE          VM config file (JSON); options override it\n"
	      "  --boot-timeout SECS    how long to wait for the guest agent (default 120)\n"
	      "  --from-snapshot DIR    restore DIR (state, memory: a guest whose agent was\n"
	      "                         listening) instead of booting; its shares, memory and\n"
	      "                         vCPUs are the snapshot's\n"
	      "  -v, --verbose          show the guest's console\n\n"
	      "Exit status: CMD's own; 128+N when CMD died of signal N; 123 the guest\n"
	      "kernel panicked (the panic line is printed); 124 timeout; 125 arcvm could\n"
	      "not run CMD; 126/127 CMD not executable / not found.\n", f);
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		cli_error("bad --%s '%s': expected a whole number from %ld to %ld", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_user(const char *s, struct exec_opts *o)
{
	char *end;
	errno = 0;
	unsigned long uid = strtoul(s, &end, 10), gid = uid;
	if (!errno && end != s && *end == ':') {
		const char *g = end + 1;
		gid = strtoul(g, &end, 10);
		if (end == g)
			errno = EINVAL;
	}
	if (errno || end == s || *end || s[0] == '-' || uid > 0xFFFFFFFEul || gid > 0xFFFFFFFEul) {
		cli_error("bad --user '%s': expected UID or UID:GID (numbers)", s);
		return -1;
	}
	o->user = true;
	o->uid = (uint32_t)uid;
	o->gid = (uint32_t)gid;
	return 0;
}

static int add_copy_out(const char *s, struct exec_opts *o)
{
	const char *colon = strchr(s, ':');
	if (!colon || s[0] != '/' || !colon[1]) {
		cli_error("bad --copy-out '%s': expected /GUEST/PATH:HOST_PATH", s);
		return -1;
	}
	if (o->ncopy == MAX_COPY_OUT) {
		cli_error("too many --copy-out (at most %d)", MAX_COPY_OUT);
		return -1;
	}
	o->copy_guest[o->ncopy] = strndup(s, (size_t)(colon - s));
	o->copy_host[o->ncopy++] = colon + 1;
	return o->copy_guest[o->ncopy - 1] ? 0 : -1;
}

static int add_share(const char *spec, struct exec_opts *o)
{
	char msg[CLI_ERRMSG];
	if (o->nshares == ARCVM_MAX_SHARES) {
		cli_error("too many shares (at most %d)", ARCVM_MAX_SHARES);
		return -1;
	}
	if (cli_parse_share(spec, NULL, &o->shares[o->nshares], msg, sizeof(msg))) {
		cli_error("bad --share: %s", msg);
		return -1;
	}
	o->nshares++;
	return 0;
}

static int add_env(const char *kv, struct exec_opts *o)
{
	if (!strchr(kv, '=') || kv[0] == '=') {
		cli_error("bad --env '%s': expected NAME=VALUE", kv);
		return -1;
	}
	if (o->nenv == (int)(sizeof(o->env) / sizeof(o->env[0]))) {
		cli_error("too many --env");
		return -1;
	}
	o->env[o->nenv++] = kv;
	return 0;
}

static int parse_size_opt(const char *s, uint64_t *out)
{
	struct arcvm_error err;
	if (arcvm_parse_size(s, out, &err)) {
		cli_error("bad --mem: %s", err.msg);
		return -1;
	}
	if (*out == 0) {
		cli_error("bad --mem '%s': guest memory must be larger than 0", s);
		return -1;
	}
	return 0;
}

static int parse_option(int c, struct exec_opts *o)
{
	char msg[CLI_ERRMSG];
	long v;
	static const char *const machine[] = { ['p'] = "--cpus", ['m'] = "--mem",
		['k'] = "--kernel", ['i'] = "--initrd", ['s'] = "--share", ['F'] = "--config",
		['N'] = "--net", ['L'] = "--publish", ['M'] = "--shared-mem" };
	if (c >= 0 && (size_t)c < sizeof(machine) / sizeof(machine[0]) && machine[c])
		o->machine_opt = machine[c];
	switch (c) {
	case 'S': o->from_snapshot = optarg; return 0;
	case 'p':
		if (parse_long("cpus", optarg, 1, ARCVM_MAX_CPUS, &v))
			return -1;
		o->cfg.cpus = (int)v;
		return 0;
	case 'm': return parse_size_opt(optarg, &o->cfg.mem_size);
	case 'k': o->cfg.kernel_path = optarg; return 0;
	case 'i': o->cfg.initrd_path = optarg; return 0;
	case 's': return add_share(optarg, o);
	case 'e': return add_env(optarg, o);
	case 'w':
		if (optarg[0] != '/') {
			cli_error("bad --workdir '%s': expected an absolute guest path", optarg);
			return -1;
		}
		o->workdir = optarg;
		return 0;
	case 'u': return parse_user(optarg, o);
	case 'T': return parse_long("timeout", optarg, 1, 100L * 365 * 86400, &o->timeout);
	case 'B': return parse_long("boot-timeout", optarg, 1, 86400, &o->boot_timeout);
	case 't': o->tty = true; return 0;
	case 'c': return add_copy_out(optarg, o);
	case 'I': o->image = optarg; return 0;
	case 'P': o->persist = true; return 0;
	case 'F': return 0; /* read before the other options: cli_config_arg */
	case 'L':
		if (cli_parse_publish(optarg, &o->net, msg, sizeof(msg))) {
			cli_error("%s", msg);
			return -1;
		}
		return 0;
	case 'a': return call_add_arg(o->call, optarg);
	case 'o': o->call->out = optarg; return 0;
	case 'M':
		if (cli_parse_shm(optarg, NULL, &o->shm, msg, sizeof(msg))) {
			cli_error("%s", msg);
			return -1;
		}
		return 0;
	case 'v': o->verbose++; return 0;
	case 'h': o->call ? call_usage(stdout) : exec_usage(stdout); exit(CLI_OK);
	default: o->call ? call_usage(stderr) : exec_usage(stderr); return -1;
	}
}

/* The options that shape the VM, shared by arcvm exec and arcvm call. */
#define VM_LONG_OPTIONS \
	{ "cpus", required_argument, 0, 'p' }, { "mem", required_argument, 0, 'm' }, \
	{ "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' }, \
	{ "share", required_argument, 0, 's' }, { "timeout", required_argument, 0, 'T' }, \
	{ "config", required_argument, 0, 'F' }, { "boot-timeout", required_argument, 0, 'B' }, \
	{ "image", required_argument, 0, 'I' }, { "persist", no_argument, 0, 'P' }, \
	{ "from-snapshot", required_argument, 0, 'S' }, \
	{ "net", optional_argument, 0, 'N' }, { "publish", required_argument, 0, 'L' }, \
	{ "shared-mem", required_argument, 0, 'M' }, \
	{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }

/* arcvm call takes the options that shape the VM, not those of a command. */
static const struct option call_options[] = {
	VM_LONG_OPTIONS,
	{ "arg", required_argument, 0, 'a' }, { "out", required_argument, 0, 'o' }, { 0, 0, 0, 0 },
};

/* The positional words: CMD for exec (everything from the first), one
 * PACK for call (options may come before and after it). */
static int take_positional(int argc, char **argv, struct exec_opts *o)
{
	if (o->call) {
		if (optind >= argc) {
			cli_error("no pack given (arcvm call [OPTIONS] PACK.ionpack [--arg VALUE]...)");
			return -1;
		}
		if (optind + 1 < argc) {
			cli_error("unexpected '%s' after the pack (arguments are given with --arg)",
				  argv[optind + 1]);
			return -1;
		}
		o->call->pack = argv[optind];
		return 0;
	}
	if (optind >= argc) {
		cli_error("no command given (arcvm exec [OPTIONS] -- CMD [ARGS...])");
		return -1;
	}
	o->argv = argv + optind;
	o->argc = argc - optind;
	return 0;
}

static int parse_exec_args(int argc, char **argv, struct exec_opts *o)
{
	static const struct option exec_options[] = {
		VM_LONG_OPTIONS,
		{ "env", required_argument, 0, 'e' }, { "workdir", required_argument, 0, 'w' },
		{ "user", required_argument, 0, 'u' }, { "tty", no_argument, 0, 't' },
		{ "copy-out", required_argument, 0, 'c' }, { 0, 0, 0, 0 },
	};
	int c;
	optind = 1;
	/* '+': stop at the first non-option, so CMD's own options stay CMD's.
	 * A call's options may follow its pack ("PACK --arg 1"). */
	while ((c = getopt_long(argc, argv, o->call ? "vh" : "+tvh",
				o->call ? call_options : exec_options, NULL)) != -1) {
		if (c == 'N') {
			/* --net's value is optional: --net=V, or the next word when
			 * it reads as one (so "--net -- CMD" is plain user mode). */
			char msg[CLI_ERRMSG];
			const char *v = optarg;
			if (!v && optind < argc && cli_net_word(argv[optind]))
				v = argv[optind++];
			if (cli_parse_net(v, &o->net, msg, sizeof(msg))) {
				cli_error("%s", msg);
				return -1;
			}
		} else if (parse_option(c, o)) {
			return -1;
		}
	}
	if (take_positional(argc, argv, o))
		return -1;
	if (o->persist && !o->image) {
		cli_error("--persist needs --image");
		return -1;
	}
	if (o->image && o->from_snapshot) {
		cli_error("--image cannot be used with --from-snapshot: the VM is the snapshot's");
		return -1;
	}
	if (o->image && access(o->image, R_OK | (o->persist ? W_OK : 0))) {
		cli_error("cannot use image %s: %s", o->image, strerror(errno));
		return -1;
	}
	if (o->from_snapshot && o->machine_opt) {
		cli_error("%s cannot be used with --from-snapshot: the VM is the snapshot's",
			  o->machine_opt);
		return -1;
	}
	return 0;
}

/* The config file first; options parsed afterwards override it. */
static int apply_file(const char *path, struct exec_opts *o)
{
	char msg[CLI_ERRMSG];
	struct cli_file_config *f = &o->file;
	if (cli_config_load(path, f, msg, sizeof(msg))) {
		cli_error("%s", msg);
		return -1;
	}
	if (f->ndrives) {
		cli_error("%s: disk drives are not supported by arcvm exec yet (use shares)", path);
		return -1;
	}
	if (f->cpus)
		o->cfg.cpus = f->cpus;
	if (f->mem)
		o->cfg.mem_size = f->mem;
	o->cfg.kernel_path = f->kernel;
	o->cfg.initrd_path = f->initrd;
	/* The file's shares come first; --share adds to them. */
	for (int i = 0; i < f->nshares; i++) {
		o->shares[o->nshares++] = f->shares[i];
		memset(&f->shares[i], 0, sizeof(f->shares[i]));
	}
	f->nshares = 0;
	for (int i = 0; i < f->nenv; i++)
		o->env[o->nenv++] = f->env[i];
	o->net = f->net;
	o->shm = f->shm;
	return 0;
}

static void free_opts(struct exec_opts *o)
{
	for (int i = 0; i < o->nshares; i++)
		cli_share_free(&o->shares[i]);
	for (int i = 0; i < o->ncopy; i++)
		free((char *)o->copy_guest[i]);
	cli_config_free(&o->file);
}

/* ---- the VM ------------------------------------------------------------ */

static char *guest_file(const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", cli_guest_dir(), name) < 0 ? NULL : p;
}

/* Kernel and initrd: the options', the file's, or the built-in guest's. */
static int pick_guest(struct exec_opts *o, char **own_kernel, char **own_initrd)
{
	if (!o->cfg.kernel_path) {
		*own_kernel = guest_file("vmlinux");
		if (*own_kernel && access(*own_kernel, R_OK)) {
			free(*own_kernel);
			*own_kernel = guest_file("vmlinuz");
		}
		if (!*own_kernel || access(*own_kernel, R_OK)) {
			cli_error("no built-in guest in %s (run 'make guest')", cli_guest_dir());
			return -1;
		}
		o->cfg.kernel_path = *own_kernel;
	}
	if (!o->cfg.initrd_path) {
		*own_initrd = guest_file("initrd.cpio.gz");
		o->cfg.initrd_path = *own_initrd;
	}
	return 0;
}

static char *build_cmdline(const struct exec_opts *o)
{
	char *s = NULL;
	if (asprintf(&s, "%s %s%s", o->file.cmdline ? o->file.cmdline : DEFAULT_CMDLINE,
		     o->image ? IMAGE_CMDLINE : AGENT_CMDLINE,
		     o->image && !o->persist ? " arcvm.overlay=1" : "") < 0)
		return NULL;
	for (int i = 0; i < o->nshares && s; i++) {
		char *t = NULL;
		if (asprintf(&t, "%s arcvm.share=%s:%s%s", s, cli_share_tag(i), o->shares[i].guest,
			     o->shares[i].read_only ? ":ro" : "") < 0)
			t = NULL;
		free(s);
		s = t;
	}
	char netarg[96], *t = NULL;
	cli_net_cmdline(&o->net, netarg, sizeof(netarg));
	if (s && asprintf(&t, "%s%s quiet", s, netarg) < 0)
		t = NULL;
	free(s);
	return t;
}

static int make_private_dir(struct exec_run *r)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(r->dir, sizeof(r->dir), "%s/arcvm-exec.XXXXXX", tmp);
	if (!mkdtemp(r->dir)) {
		cli_error("cannot create a temporary folder in %s: %s", tmp, strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	snprintf(r->uds, sizeof(r->uds), "%s/vsock", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/console.log", r->dir);
	r->log_fd = open(r->log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r->log_fd < 0) {
		cli_error("cannot create %s: %s", r->log, strerror(errno));
		return -1;
	}
	return 0;
}

static void remove_private_dir(struct exec_run *r)
{
	if (!r->dir[0])
		return;
	DIR *d = opendir(r->dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(r->dir);
	r->dir[0] = '\0';
}

/* The end of the guest's console log, for a failure message. */
static void show_log_tail(const struct exec_run *r, int verbose)
{
	if (verbose || r->log_fd < 0)
		return;
	off_t size = lseek(r->log_fd, 0, SEEK_END);
	off_t from = size > LOG_TAIL ? size - LOG_TAIL : 0;
	char buf[LOG_TAIL];
	ssize_t n = pread(r->log_fd, buf, sizeof(buf), from);
	if (n <= 0)
		return;
	fprintf(stderr, "arcvm: the guest's console ended with:\n");
	fwrite(buf, 1, (size_t)n, stderr);
	if (buf[n - 1] != '\n')
		fputc('\n', stderr);
}

static bool vm_alive(void *opaque, char *msg, size_t len)
{
	enum arcvm_exit_reason why;
	struct arcvm_error err;
	if (arcvm_vm_wait(opaque, 0, &why, &err) != 0)
		return true;
	snprintf(msg, len, "the VM stopped (%s) before the command finished",
		 arcvm_exit_reason_name(why));
	return false;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Retries until the agent listens, the VM dies, a signal comes or the
 * boot deadline passes. */
static int connect_agent(struct exec_run *r, long boot_timeout, int *stop_sig)
{
	int64_t end = mono_ms() + boot_timeout * 1000;
	char msg[256];
	while (mono_ms() < end) {
		int fd = vsock_uds_dial(r->uds, PROTO_PORT, VSOCK_UDS_REPLY_MS);
		if (fd >= 0)
			return fd;
		if (!vm_alive(r->vm, msg, sizeof(msg))) {
			cli_error("the VM stopped before its agent answered");
			return -1;
		}
		struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };
		uint8_t sig;
		if (poll(&p, 1, 50) == 1 && read(wake_pipe[0], &sig, 1) == 1 && sig != SIGWINCH) {
			*stop_sig = sig;
			return -1;
		}
	}
	cli_error("the guest agent did not answer within %ld s (see --boot-timeout)", boot_timeout);
	return -1;
}

static void tty_raw(struct exec_run *r)
{
	struct termios t;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &r->saved_tty))
		return;
	t = r->saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		r->tty_raw = true;
}

static void tty_restore(struct exec_run *r)
{
	if (r->tty_raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved_tty);
	r->tty_raw = false;
}


/* ---- the command ------------------------------------------------------- */

/* Later entries win (options over the file): earlier ones of a name go. */
static int dedupe_env(const char **env, int n)
{
	int out = 0;
	for (int i = 0; i < n; i++) {
		size_t klen = strcspn(env[i], "=") + 1;
		bool later = false;
		for (int j = i + 1; j < n && !later; j++)
			later = strncmp(env[i], env[j], klen) == 0;
		if (!later)
			env[out++] = env[i];
	}
	return out;
}

static void fill_request(struct exec_opts *o, struct proto_exec *e, const char **env)
{
	int n = 0;
	const char *term = getenv("TERM");
	static char term_kv[128];
	if (o->tty && term && snprintf(term_kv, sizeof(term_kv), "TERM=%s", term) < (int)sizeof(term_kv))
		env[n++] = term_kv;   /* first, so --env TERM=... wins */
	for (int i = 0; i < o->nenv; i++)
		env[n++] = o->env[i];
	n = dedupe_env(env, n);
	env[n] = NULL;
	memset(e, 0, sizeof(*e));
	e->flags = (o->tty ? PROTO_EXEC_TTY : 0) | (o->user ? PROTO_EXEC_USER : 0);
	e->uid = o->uid;
	e->gid = o->gid;
	struct winsize ws;
	if (o->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		e->rows = ws.ws_row;
		e->cols = ws.ws_col;
	}
	e->workdir = o->workdir ? o->workdir : "";
	e->argc = (uint32_t)o->argc;
	e->argv = (const char **)o->argv;
	e->envc = (uint32_t)n;
	e->env = env;
}

static int copy_outs(struct exec_opts *o, struct exec_conn *c)
{
	char msg[1024];
	for (int i = 0; i < o->ncopy; i++) {
		if (exec_session_copy_out(c, o->copy_guest[i], o->copy_host[i], COPY_IDLE_MS, msg,
					  sizeof(msg))) {
			cli_error("--copy-out %s: %s", o->copy_guest[i], msg);
			return -1;
		}
	}
	return 0;
}

/* When the VM has ended because the guest's kernel panicked: says so with
 * the kernel's panic line and returns true. (A panic does not break the
 * agent's connection: the session ends because the VM is seen to stop, so
 * the VM has stopped by the time this is asked.) */
static bool report_panic(struct exec_run *r, int verbose)
{
	enum arcvm_exit_reason why;
	struct arcvm_error err;
	if (arcvm_vm_wait(r->vm, 0, &why, &err) != 0 || why != ARCVM_EXIT_PANIC)
		return false;
	const char *line = arcvm_vm_panic_message(r->vm);
	cli_error("the guest kernel panicked before the command finished: %s",
		  line ? line : "(no panic line on the console)");
	show_log_tail(r, verbose);
	return true;
}

/* Maps how the session ended to arcvm's status, printing why if needed. */
static int session_status(struct exec_opts *o, struct exec_run *r, const struct exec_result *res)
{
	switch (res->end) {
	case EXEC_END_EXIT:
		return exec_status_of(res->kind, res->code);
	case EXEC_END_TIMEOUT:
		cli_error("the command did not finish within %ld s: stopped it and the VM", o->timeout);
		return EXEC_TIMEOUT_STATUS;
	case EXEC_END_SIGNAL:
		return 128 + (int)res->code;
	default:
		if (report_panic(r, o->verbose))
			return EXEC_PANIC_STATUS;
		cli_error("%s", res->msg);
		show_log_tail(r, o->verbose);
		return EXEC_FAILED;
	}
}

/* True when the guest may hold writes that only a clean power off puts on
 * the host: a disk it can write (--image --persist, or a snapshot's
 * writable drive). Shares need none: the agent mounts them without a cache,
 * so every write has reached the host file before the guest's write()
 * returned. The rest of the VM is thrown away: with no writable disk, a hard
 * stop once the command and the copies are done loses nothing and spares
 * the guest's power-off path (its console messages alone cost a few ms a
 * byte on the emulated UART). */
static bool needs_clean_poweroff(const struct arcvm_vm *vm)
{
	const struct arcvm_config *cfg = arcvm_vm_config(vm);
	for (int i = 0; i < cfg->ndrives; i++)
		if (!cfg->drives[i].read_only)
			return true;
	return false;
}

/* The CALL instead of the command: its result or failure, then SHUTDOWN when
 * the guest has a disk to flush. */
static int run_call(struct exec_opts *o, struct exec_run *r, struct exec_conn *c,
		    const struct exec_io *io, bool *graceful)
{
	struct exec_result res;
	exec_session_call(c, o->call->bundle, o->call->bundle_len, io, &res);
	bool done = res.end == EXEC_END_VALUE || res.end == EXEC_END_CALL_FAIL;
	int status;
	if (done) {
		status = call_finish(o->call, &res);
	} else if (res.end == EXEC_END_TIMEOUT) {
		cli_error("the call did not finish within %ld s: stopped the VM", o->timeout);
		status = EXEC_TIMEOUT_STATUS;
	} else {
		status = session_status(o, r, &res);
	}
	exec_result_free(&res);
	if (done && needs_clean_poweroff(r->vm))
		*graceful = exec_session_shutdown(c, 2000) == 0;
	return status;
}

/* Runs the command over the connection, then the copies and, when the
 * guest has a disk to flush, SHUTDOWN. Returns arcvm's exit status;
 * *graceful says the agent was asked to power off. */
static int run_command(struct exec_opts *o, struct exec_run *r, int fd, bool *graceful)
{
	struct exec_conn c;
	char msg[1024];
	const char *env[CLI_MAX_ENV * 2 + 2];
	struct proto_exec e;
	struct exec_result res;
	if (exec_conn_init(&c, fd)) {
		close(fd);
		cli_error("out of memory");
		return EXEC_FAILED;
	}
	int status = EXEC_FAILED;
	if (exec_session_hello(&c, 10000, msg, sizeof(msg))) {
		cli_error("%s", msg);
		show_log_tail(r, o->verbose);
		goto out;
	}
	struct exec_io io = {
		.in_fd = fcntl(STDIN_FILENO, F_GETFD) < 0 ? -1 : STDIN_FILENO,
		.out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO, .wake_fd = wake_pipe[0],
		.deadline_ms = o->timeout ? mono_ms() + o->timeout * 1000 : 0,
		.alive = vm_alive, .opaque = r->vm,
	};
	if (o->call) {
		status = run_call(o, r, &c, &io, graceful);
		goto out;
	}
	fill_request(o, &e, env);
	if (o->tty)
		tty_raw(r);
	exec_session_run(&c, &e, &io, &res);
	tty_restore(r);
	status = session_status(o, r, &res);
	if (res.end != EXEC_END_EXIT)
		goto out;
	if (copy_outs(o, &c))
		status = EXEC_FAILED;
	if (needs_clean_poweroff(r->vm))
		*graceful = exec_session_shutdown(&c, 2000) == 0;
out:
	exec_conn_close(&c);
	return status;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The VM from --from-snapshot DIR: the agent in it listens already; the
 * vsock gets this run's private socket (the guest sees its old connections
 * reset). */
static int restore_vm(struct exec_opts *o, struct exec_run *r, struct arcvm_error *err)
{
	char state[4096], mem[4096];
	snprintf(state, sizeof(state), "%s/state", o->from_snapshot);
	snprintf(mem, sizeof(mem), "%s/memory", o->from_snapshot);
	struct arcvm_restore req;
	arcvm_restore_init(&req);
	req.state_path = state;
	req.mem_path = mem;
	req.console_in_fd = -1;
	req.console_out_fd = o->cfg.console_out_fd;
	req.vsock_uds_path = r->uds;
	req.log = cli_log;
	req.log_opaque = &o->verbose;
	int rc = arcvm_vm_restore(&req, &r->vm, err);
	return rc ? rc : arcvm_vm_resume(r->vm, err);
}

/* Boots (or restores), connects and runs; every acquisition is undone by
 * the caller. */
static int boot_and_run(struct exec_opts *o, struct exec_run *r)
{
	struct arcvm_error err;
	int rc = o->from_snapshot ? restore_vm(o, r, &err) : arcvm_vm_create(&o->cfg, &r->vm, &err);
	if (!rc && !o->from_snapshot)
		rc = arcvm_vm_boot(r->vm, &err);
	if (rc) {
		cli_error("%s", err.msg);
		return EXEC_FAILED;
	}
	int stop_sig = 0;
	int fd = connect_agent(r, o->boot_timeout, &stop_sig);
	if (fd < 0) {
		if (stop_sig)
			return 128 + stop_sig;
		if (report_panic(r, o->verbose))
			return EXEC_PANIC_STATUS;
		show_log_tail(r, o->verbose);
		return EXEC_FAILED;
	}
	bool graceful = false;
	int status = run_command(o, r, fd, &graceful);
	enum arcvm_exit_reason why;
	if (!graceful || arcvm_vm_wait(r->vm, POWEROFF_WAIT_MS, &why, &err))
		arcvm_vm_request_stop(r->vm);
	return status;
}

static int exec_vm(struct exec_opts *o)
{
	struct exec_run r = { .log_fd = -1 };
	char *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	int status = EXEC_FAILED, shm_fd = -1;
	struct cli_bell *bell = NULL;     /* the doorbell of a path= region */
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK)) {
		cli_error("pipe: %s", strerror(errno));
		return EXEC_FAILED;
	}
	install_signals();
	if (o->call && call_prepare(o->call))
		goto out;
	if ((!o->from_snapshot && pick_guest(o, &kernel, &initrd)) || make_private_dir(&r))
		goto out;
	cmdline = build_cmdline(o);
	if (!cmdline)
		goto out;
	o->cfg.cmdline = cmdline;
	o->cfg.console_in_fd = -1;
	o->cfg.console_out_fd = o->verbose ? STDERR_FILENO : r.log_fd;
	o->cfg.rng = true;
	o->cfg.vsock_uds_path = r.uds;
	o->cfg.vsock_cid = 3;
	for (int i = 0; i < o->nshares; i++)
		o->cfg.shares[i] = (struct arcvm_share){ .host_path = o->shares[i].host,
			.tag = cli_share_tag(i), .read_only = o->shares[i].read_only };
	o->cfg.nshares = o->nshares;
	if (o->image) {
		/* Without --persist the file is opened read-only: the overlay
		 * keeps the guest's writes, and nothing can reach the image. */
		o->cfg.drives[0] = (struct arcvm_drive){ .path = o->image, .root = true,
			.read_only = !o->persist, .id = "root" };
		o->cfg.ndrives = 1;
	}
	char msg[CLI_ERRMSG];
	if (cli_net_apply(&o->net, &o->cfg, msg, sizeof(msg))) {
		cli_error("%s", msg);
		goto out;
	}
	if (cli_shm_apply(&o->shm, &o->cfg, &shm_fd, msg, sizeof(msg)) ||
	    (o->shm.path[0] && cli_bell_start(o->shm.path, r.uds, &bell, msg, sizeof(msg)))) {
		cli_error("%s", msg);
		goto out;
	}
	o->cfg.log = cli_log;
	o->cfg.log_opaque = &o->verbose;
	status = boot_and_run(o, &r);
out:
	tty_restore(&r);
	arcvm_vm_destroy(r.vm);
	cli_bell_stop(bell);
	if (r.log_fd >= 0)
		close(r.log_fd);
	remove_private_dir(&r);
	if (shm_fd >= 0)
		close(shm_fd);
	free(kernel);
	free(initrd);
	free(cmdline);
	return status;
}

static int exec_or_call(int argc, char **argv, struct call_opts *call)
{
	struct exec_opts o = { .boot_timeout = DEFAULT_BOOT_TIMEOUT, .call = call, .shm.fd = -1 };
	arcvm_config_init(&o.cfg);
	const char *config = cli_config_arg(argc, argv);
	int status = EXEC_FAILED;
	if ((config && apply_file(config, &o)) || parse_exec_args(argc, argv, &o))
		goto out;
	o.nenv = dedupe_env(o.env, o.nenv);
	status = exec_vm(&o);
out:
	free_opts(&o);
	return status;
}

int cli_exec(int argc, char **argv)
{
	return exec_or_call(argc, argv, NULL);
}

int cli_call(int argc, char **argv)
{
	struct call_opts call = { 0 };
	int status = exec_or_call(argc, argv, &call);
	call_opts_free(&call);
	return status;
}

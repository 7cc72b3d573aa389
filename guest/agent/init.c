/*
 * init.c - arcvm-init as PID 1: mounts the basic filesystems, loads the
 * kernel modules listed in /lib/modules/load-order with finit_module (those
 * of device drivers only when the VM has such a device), mounts
 * the 9p shares named on the kernel command line, then listens on vsock port
 * PROTO_PORT and forks one server process per host connection, reaping every
 * zombie in between (orphans are reparented to PID 1).
 *
 * Kernel command line words it reads:
 *   arcvm.modules=1                  load the modules
 *   arcvm.share=TAG:/guest/path[:ro] mount 9p share TAG there (repeatable)
 *   arcvm.net=SPEC                   configure eth0 with /bin/arcvm-net SPEC
 *                                    (guest/net-up.sh, shared with init.sh)
 *
 * `arcvm-init --serve-stdin` serves one connection on its stdin and exits:
 * the host-side tests drive the agent that way, without a VM.
 *
 * Invariant: PID 1 never exits (the kernel would panic); every failure is
 * logged and the agent carries on, reporting setup failures to the host.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#define SHARE_OPTS "trans=virtio,version=9p2000.L,msize=262144"
#define MOUNT_TRIES 50     /* x 20 ms: a share's device may still be probing */
#define CMDLINE_MAX 4096

const char *agent_setup_error;
static char setup_error_buf[512];

void agent_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "arcvm-init: %s\n", buf);
}

static void setup_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void setup_failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(setup_error_buf, sizeof(setup_error_buf), fmt, ap);
	va_end(ap);
	agent_log("%s", setup_error_buf);
	if (!agent_setup_error)
		agent_setup_error = setup_error_buf;
}

/* mkdir -p; existing folders are fine. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[1024];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

static void mount_one(const char *src, const char *dir, const char *type, unsigned long flags,
		      const char *opts)
{
	mkdir_p(dir, 0755);
	/* EBUSY: already mounted (the shell /init may have mounted /proc first). */
	if (mount(src, dir, type, flags, opts) && errno != EBUSY)
		agent_log("mount %s on %s: %s", type, dir, strerror(errno));
}

static void mount_basics(void)
{
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	if (access("/dev/ptmx", F_OK))
		symlink("pts/ptmx", "/dev/ptmx");
}

static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/*
 * Modules that only a given virtio device needs, by virtio device ID: they
 * are loaded only when the VM has such a device, which spares a plain
 * `arcvm exec` the cost of linking drivers it would never use. Every other
 * module in load-order (the virtio-mmio transport, vsock) is loaded first,
 * in order; then the devices the transport found decide the rest.
 */
static const struct {
	unsigned id;
	const char *const names[8];
} device_modules[] = {
	{ 1, { "failover", "net_failover", "virtio_net" } },
	{ 2, { "virtio_blk", "crc32c-intel", "crc32c_generic", "crc16", "mbcache", "jbd2",
	       "ext4", "overlay" } },
	{ 3, { "virtio_console" } },
	{ 4, { "virtio-rng" } },
	{ 9, { "netfs", "fscache", "9pnet", "9p", "9pnet_virtio" } },
};

#define VIRTIO_MAX_ID 64

/* The virtio device ID a module belongs to, or 0 when every VM needs it. */
static unsigned module_device(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strcspn(base, ".");
	for (size_t i = 0; i < sizeof(device_modules) / sizeof(device_modules[0]); i++)
		for (int j = 0; j < 8 && device_modules[i].names[j]; j++)
			if (strlen(device_modules[i].names[j]) == len &&
			    strncmp(device_modules[i].names[j], base, len) == 0)
				return device_modules[i].id;
	return 0;
}

/* Marks present[id] for each device on the virtio bus. */
static void virtio_devices(bool present[VIRTIO_MAX_ID])
{
	DIR *d = opendir("/sys/bus/virtio/devices");
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], id[32] = "";
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, id, sizeof(id) - 1);
		close(fd);
		unsigned long v = n > 0 ? strtoul(id, NULL, 16) : 0;
		if (v > 0 && v < VIRTIO_MAX_ID)
			present[v] = true;
	}
	closedir(d);
}

static void load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST))
		agent_log("module %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Two passes over load-order: the modules every VM needs, then those of the
 * devices present. Each pass keeps the file's order, so dependencies load
 * first within it. */
static void load_modules(void)
{
	FILE *f = fopen("/lib/modules/load-order", "re");
	if (!f) {
		setup_failed("no /lib/modules/load-order: %s", strerror(errno));
		return;
	}
	bool present[VIRTIO_MAX_ID] = { false };
	char line[512];
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!line[0])
				continue;
			unsigned dev = module_device(line);
			if (pass == 0 ? dev == 0 : dev != 0 && present[dev])
				load_module(line);
		}
		if (pass == 0)
			virtio_devices(present);
	}
	fclose(f);
}

/* arcvm.share=TAG:/guest/path[:ro] */
static void mount_share(char *spec)
{
	char *tag = spec, *path = strchr(spec, ':');
	if (!path || path == tag || path[1] != '/') {
		setup_failed("bad arcvm.share=%s (expected TAG:/path[:ro])", spec);
		return;
	}
	*path++ = '\0';
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char *mode = strchr(path, ':');
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") == 0)
			flags |= MS_RDONLY;
		else if (strcmp(mode, "rw") != 0) {
			setup_failed("bad mode '%s' in arcvm.share for %s", mode, tag);
			return;
		}
	}
	int rc = mkdir_p(path, 0755);
	if (rc) {
		setup_failed("cannot create mount point %s: %s", path, strerror(-rc));
		return;
	}
	/* ENOENT: no device with that tag yet (virtio probing runs on); bounded. */
	for (int i = 0; i < MOUNT_TRIES; i++) {
		if (mount(tag, path, "9p", flags, SHARE_OPTS) == 0)
			return;
		if (errno != ENOENT)
			break;
		usleep(20000);
	}
	setup_failed("cannot mount share %s on %s: %s", tag, path, strerror(errno));
}

/* Runs /bin/arcvm-net SPEC (which bounds its own waits) and waits for it:
 * the command should find the network configured. */
static void setup_network(const char *spec)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/arcvm-net", "arcvm-net", spec, (char *)NULL);
		_exit(127);
	}
	int status = -1;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		setup_failed("network setup (arcvm.net=%s) failed, status 0x%x", spec, status);
}

static void read_cmdline(char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static void setup_from_cmdline(void)
{
	static char cmdline[CMDLINE_MAX];
	read_cmdline(cmdline, sizeof(cmdline));
	bool modules = false;
	for (char *save, *w = strtok_r(cmdline, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, "arcvm.modules=1") == 0)
			modules = true;
	if (modules)
		load_modules();
	read_cmdline(cmdline, sizeof(cmdline));
	for (char *save, *w = strtok_r(cmdline, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strncmp(w, "arcvm.share=", 12) == 0)
			mount_share(w + 12);
		else if (strncmp(w, "arcvm.net=", 10) == 0)
			setup_network(w + 10);
}

/* The listening socket; retried each second until vsock exists. */
static int listen_vsock(void)
{
	for (bool logged = false;; sleep(1)) {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_vm addr = {
			.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = PROTO_PORT,
		};
		if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		    listen(fd, 16) == 0)
			return fd;
		if (!logged)
			agent_log("cannot listen on vsock port %u: %s (retrying)", PROTO_PORT,
				  strerror(errno));
		logged = true;
		if (fd >= 0)
			close(fd);
	}
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* One process per connection, so PID 1 keeps accepting and reaping. */
static void spawn_server(int conn, int lfd, int sfd, const sigset_t *old_mask)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(lfd);
		close(sfd);
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		agent_serve(conn);
		_exit(0);
	}
	if (pid < 0)
		agent_log("fork: %s", strerror(errno));
	close(conn);
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	if (strcmp(name ? name + 1 : argv[0], "arcvm-shm") == 0)
		return shm_main(argc, argv);
	/* Test mode: serve the one connection on stdin (a socket), as a
	 * connection's server process would, then exit. No mounts. */
	if (argc == 2 && strcmp(argv[1], "--serve-stdin") == 0) {
		signal(SIGPIPE, SIG_IGN);
		agent_serve(STDIN_FILENO);
		return 0;
	}
	bool pid1 = getpid() == 1;
	if (pid1) {
		mount_basics();
		open_console();
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		setup_from_cmdline();
	}
	/* A write to a vanished host must fail with EPIPE, not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t chld, old_mask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	int lfd = listen_vsock();
	char up[32] = "?";
	int ufd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	if (ufd >= 0) {
		ssize_t n = read(ufd, up, sizeof(up) - 1);
		up[n > 0 ? n : 0] = '\0';
		up[strcspn(up, " ")] = '\0';
		close(ufd);
	}
	agent_log("ready on vsock port %u, %s s after boot", PROTO_PORT, up);
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 1000) < 0 && errno != EINTR)
			agent_log("poll: %s", strerror(errno));
		if (sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
		}
		reap();
		if (p[0].revents & POLLIN) {
			int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0)
				spawn_server(conn, lfd, sfd, &old_mask);
		}
	}
}

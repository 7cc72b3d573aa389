/* run.c - `arcvm run`: boot a kernel with its serial console on this terminal. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/console.h"
#include "cli/drive_opt.h"
#include "cli/net_opt.h"
#include "cli/shm_bell.h"

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 pci=off quiet"

static struct arcvm_vm *signal_vm;
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (signal_vm)
		arcvm_vm_request_stop(signal_vm);
}

static void run_usage(FILE *f)
{
	fputs("usage: arcvm run [OPTIONS]\n"
	      "Boots a Linux kernel (bzImage or ELF vmlinux) with COM1 on this terminal.\n"
	      "With no --kernel it boots the built-in guest image.\n\n"
	      "  --kernel PATH     kernel to boot\n"
	      "  --initrd PATH     initial ramdisk\n"
	      "  --cmdline STR     kernel command line (replaces the default: \"" DEFAULT_CMDLINE "\")\n"
	      "  --append STR      appended to the kernel command line\n"
	      "  --mem SIZE        guest memory, e.g. 512M or 2G (default 512M; 2M with --bios)\n"
	      "  --cpus N          vCPUs (default 1)\n"
	      "  --drive SPEC      attach a raw disk image as virtio-blk (repeatable):\n"
	      "                    path=IMG[,ro][,cache=writeback|unsafe][,id=NAME][,root=1]\n"
	      "  --root IMG        boot from the ext4 image IMG (a drive with root=1)\n"
	      "  --console KIND    serial (ttyS0, default) or virtio (hvc0)\n"
	      "  --rng             attach a virtio-rng entropy device\n"
	      "  --config FILE     VM config file (JSON, docs/cli.md); options override it\n"
	      "  --config-file FILE  Firecracker's config file instead (docs/api-firecracker.md);\n"
	      "                    only --allow-pvm and -v go with it\n"
	      "  --share DIR:TAG[:ro]  share host folder DIR over virtio-9p; in the guest:\n"
	      "                    mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt\n"
	      "  --net [MODE][,mac=MAC][,ip=ADDR/N|dhcp][,gw=ADDR][,dns=ADDR]\n"
	      "                    attach virtio-net (eth0). MODE is user (default: NAT through\n"
	      "                    libslirp, guest 10.0.2.15/24, host loopback at 10.0.2.2) or\n"
	      "                    tap=NAME (a host TAP device, created when absent as root)\n"
	      "  --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]\n"
	      "                    forward a host port (127.0.0.1 by default) to the guest\n"
	      "                    (user mode; repeatable; implies --net)\n"
	      "  --shared-mem SIZE[,path=FILE|,fd=N]\n"
	      "                    memory shared with the guest without copying (in the guest:\n"
	      "                    arcvm-shm, or /dev/mem at arcvm.shm=SIZE@GPA); path= shares it\n"
	      "                    with other processes and VMs, fd= uses an inherited descriptor\n"
	      "  --vsock UDS       attach virtio-vsock (guest CID 3), reached through the Unix\n"
	      "                    socket UDS: connect, send \"CONNECT <port>\\n\"\n"
	      "  --bios PATH       boot a real-mode firmware image instead: it ends at 1 MiB and\n"
	      "                    starts at the reset vector F000:FFF0 (like QEMU's -bios)\n"
	      "  --allow-pvm       boot on a PVM host anyway (kernel built as a PVM guest)\n"
	      "  -v, --verbose     more diagnostics\n\n"
	      "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	      "Exit status: 0 poweroff, 1 error, 2 usage, 3 reboot, 4 halt, 5 kernel panic,\n"
	      "6 triple fault, 7 stopped from the host, 128+N killed by signal N.\n", f);
}

static int parse_cpus(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > ARCVM_MAX_CPUS) {
		cli_error("bad --cpus '%s': expected a whole number from 1 to %d", s, ARCVM_MAX_CPUS);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static char *path_in_guest_dir(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", cli_guest_dir(), name) < 0)
		return NULL;
	return p;
}

/* With no --kernel: the built-in guest, preferring the uncompressed vmlinux. */
static int default_guest(struct arcvm_config *cfg, char **owned_kernel, char **owned_initrd)
{
	*owned_kernel = path_in_guest_dir("vmlinux");
	if (*owned_kernel && access(*owned_kernel, R_OK) != 0) {
		free(*owned_kernel);
		*owned_kernel = path_in_guest_dir("vmlinuz");
	}
	if (!*owned_kernel || access(*owned_kernel, R_OK) != 0) {
		cli_error("no --kernel given and no built-in guest in %s (run 'make guest')",
			  cli_guest_dir());
		return -1;
	}
	cfg->kernel_path = *owned_kernel;
	if (!cfg->initrd_path) {
		*owned_initrd = path_in_guest_dir("initrd.cpio.gz");
		cfg->initrd_path = *owned_initrd;
	}
	return 0;
}

#define BIOS_MAX (256u << 10)
#define BIOS_END 0x100000ull       /* firmware ends at 1 MiB */
#define RESET_VECTOR 0xFFFF0ull
#define BIOS_DEFAULT_MEM (2ull << 20)

/* --bios: a real-mode image placed to end at 1 MiB, entered at the reset vector. */
static int load_bios(const char *path, struct arcvm_config *cfg, bool mem_given, uint8_t **image)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		cli_error("cannot open firmware %s: %s", path, strerror(errno));
		return -1;
	}
	*image = malloc(BIOS_MAX + 1);
	size_t n = *image ? fread(*image, 1, BIOS_MAX + 1, f) : 0;
	fclose(f);
	if (n < 16 || n > BIOS_MAX) {
		cli_error("firmware %s must be 16 bytes to %u KiB long", path, BIOS_MAX >> 10);
		return -1;
	}
	cfg->boot = ARCVM_BOOT_RAW16;
	if (!mem_given)
		cfg->mem_size = BIOS_DEFAULT_MEM;   /* firmware needs the first MiB, not 512 */
	cfg->raw_image = *image;
	cfg->raw_size = n;
	cfg->raw_load_addr = BIOS_END - n;
	cfg->raw_entry = RESET_VECTOR;
	return 0;
}

/* --drive SPEC, or --root IMG as a drive with root=1. */
static int add_drive(struct arcvm_config *cfg, bool is_root, const char *arg)
{
	struct arcvm_error err;
	if (cfg->ndrives == ARCVM_MAX_DRIVES) {
		cli_error("too many drives (at most %d)", ARCVM_MAX_DRIVES);
		return -1;
	}
	struct arcvm_drive *d = &cfg->drives[cfg->ndrives];
	char *spec = NULL;
	if (is_root && asprintf(&spec, "path=%s,root=1", arg) < 0)
		return -1;
	int rc = cli_parse_drive(is_root ? spec : arg, d, &err);
	free(spec);
	if (rc) {
		cli_error("bad --%s: %s", is_root ? "root" : "drive", err.msg);
		return -1;
	}
	cfg->ndrives++;
	for (int i = 0; i < cfg->ndrives - 1; i++) {
		if (d->root && cfg->drives[i].root) {
			cli_error("only one drive can be the root");
			return -1;
		}
	}
	return 0;
}

/* --share DIR:TAG[:ro|rw]; the strings point into argv. */
static int add_share(struct arcvm_config *cfg, char *arg)
{
	if (cfg->nshares == ARCVM_MAX_SHARES) {
		cli_error("too many shares (at most %d)", ARCVM_MAX_SHARES);
		return -1;
	}
	struct arcvm_share *sh = &cfg->shares[cfg->nshares];
	char *tag = strchr(arg, ':');
	char *mode = tag ? strchr(tag + 1, ':') : NULL;
	if (!tag || tag == arg || !tag[1] || (mode && strcmp(mode, ":ro") && strcmp(mode, ":rw"))) {
		cli_error("bad --share '%s': expected DIR:TAG, DIR:TAG:ro or DIR:TAG:rw", arg);
		return -1;
	}
	*tag++ = '\0';
	if (mode)
		*mode++ = '\0';
	*sh = (struct arcvm_share){ .host_path = arg, .tag = tag,
				    .read_only = mode && strcmp(mode, "ro") == 0 };
	cfg->nshares++;
	return 0;
}

/* --net takes an optional value, given as --net=VALUE or as the next word
 * when that reads as one (user..., tap=...). */
static int take_net(int argc, char **argv, struct cli_net *net)
{
	char msg[CLI_ERRMSG];
	const char *v = optarg;
	if (!v && optind < argc && cli_net_word(argv[optind]))
		v = argv[optind++];
	if (cli_parse_net(v, net, msg, sizeof(msg))) {
		cli_error("%s", msg);
		return -1;
	}
	return 0;
}

static int take_publish(struct cli_net *net)
{
	char msg[CLI_ERRMSG];
	if (cli_parse_publish(optarg, net, msg, sizeof(msg))) {
		cli_error("%s", msg);
		return -1;
	}
	return 0;
}

static int parse_run_args(int argc, char **argv, struct arcvm_config *cfg, const char **append,
			  const char **bios, bool *mem_given, int *verbose, struct cli_net *net,
			  struct cli_shm *shm)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
		{ "cmdline", required_argument, 0, 'c' }, { "append", required_argument, 0, 'a' },
		{ "mem", required_argument, 0, 'm' }, { "cpus", required_argument, 0, 'p' },
		{ "allow-pvm", no_argument, 0, 'P' }, { "bios", required_argument, 0, 'b' },
		{ "drive", required_argument, 0, 'd' }, { "root", required_argument, 0, 'r' },
		{ "config", required_argument, 0, 'F' },
		{ "console", required_argument, 0, 'C' }, { "rng", no_argument, 0, 'R' },
		{ "vsock", required_argument, 0, 'V' }, { "share", required_argument, 0, 'S' }, { "verbose", no_argument, 0, 'v' },
		{ "net", optional_argument, 0, 'N' }, { "publish", required_argument, 0, 'L' },
		{ "shared-mem", required_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	struct arcvm_error err;
	char msg[CLI_ERRMSG];
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'k': cfg->kernel_path = optarg; break;
		case 'i': cfg->initrd_path = optarg; break;
		case 'c': cfg->cmdline = optarg; break;
		case 'a': *append = optarg; break;
		case 'm':
			*mem_given = true;
			if (arcvm_parse_size(optarg, &cfg->mem_size, &err)) {
				cli_error("bad --mem: %s", err.msg);
				return -1;
			}
			if (cfg->mem_size == 0) {
				cli_error("bad --mem '%s': guest memory must be larger than 0", optarg);
				return -1;
			}
			break;
		case 'p':
			if (parse_cpus(optarg, &cfg->cpus))
				return -1;
			break;
		case 'P': cfg->allow_pvm = true; break;
		case 'b': *bios = optarg; break;
		case 'd':
		case 'r':
			if (add_drive(cfg, o == 'r', optarg))
				return -1;
			break;
		case 'C':
			if (strcmp(optarg, "serial") == 0) {
				cfg->console = ARCVM_CONSOLE_SERIAL;
			} else if (strcmp(optarg, "virtio") == 0) {
				cfg->console = ARCVM_CONSOLE_VIRTIO;
			} else {
				cli_error("bad --console '%s': expected serial or virtio", optarg);
				return -1;
			}
			break;
		case 'R': cfg->rng = true; break;
		case 'F': break; /* read first, in cli_run */
		case 'S':
			if (add_share(cfg, optarg))
				return -1;
			break;
		case 'V':
			cfg->vsock_uds_path = optarg;
			cfg->vsock_cid = 3;
			break;
		case 'N':
			if (take_net(argc, argv, net))
				return -1;
			break;
		case 'L':
			if (take_publish(net))
				return -1;
			break;
		case 'M':
			if (cli_parse_shm(optarg, NULL, shm, msg, sizeof(msg))) {
				cli_error("%s", msg);
				return -1;
			}
			break;
		case 'v': (*verbose)++; break;
		case 'h': run_usage(stdout); exit(CLI_OK);
		default: run_usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'arcvm run --help')", argv[optind]);
		return -1;
	}
	return 0;
}

int cli_run_attached(cli_make_vm make, void *opaque)
{
	struct cli_console con;
	struct arcvm_error err;
	struct arcvm_vm *vm = NULL;
	int status = CLI_ERROR;
	if (console_open(&con) < 0) {
		cli_error("cannot set up the terminal: %s", strerror(errno));
		return CLI_ERROR;
	}
	if (make(opaque, con.guest_in_fd, &vm, &err)) {
		console_close(&con);
		cli_error("%s", err.msg);
		return CLI_ERROR;
	}
	signal_vm = vm;
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	if (!con.tty)
		sigaction(SIGTERM, &sa, NULL);
	enum arcvm_exit_reason reason = ARCVM_EXIT_NONE;
	if (console_start(&con, vm) < 0)
		cli_error("cannot relay the terminal to the guest; input is ignored");
	/* A restored VM waits Paused; a new one waits to boot. */
	int rc = arcvm_vm_state(vm) == ARCVM_STATE_PAUSED ? arcvm_vm_resume(vm, &err)
							   : arcvm_vm_boot(vm, &err);
	if (rc || arcvm_vm_wait(vm, -1, &reason, &err)) {
		cli_error("%s", err.msg);
		reason = ARCVM_EXIT_NONE;
	} else {
		status = stop_signal ? 128 + stop_signal : cli_status_for(reason);
	}
	signal_vm = NULL;
	const char *panic = arcvm_vm_panic_message(vm);
	arcvm_vm_destroy(vm);
	console_close(&con);
	if (reason == ARCVM_EXIT_PANIC)
		cli_error("guest kernel panic: %s", panic ? panic : "(no message)");
	else if (reason == ARCVM_EXIT_TRIPLE_FAULT)
		cli_error("the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
	else if (reason == ARCVM_EXIT_ERROR)
		cli_error("the VM stopped on an error (see messages above)");
	return status;
}

/* --config-file FILE: Firecracker's format, which says everything itself, so
 * only --allow-pvm and -v may come with it. Returns -1 when not given. */
static int run_fc_config_file(int argc, char **argv)
{
	const char *file = NULL;
	bool allow_pvm = false;
	int verbose = 0;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config-file") == 0 || strncmp(argv[i], "--config-file=", 14) == 0)
			file = argv[i][13] == '=' ? argv[i] + 14 : i + 1 < argc ? argv[++i] : "";
	if (!file)
		return -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config-file") == 0) {
			i++;
		} else if (strcmp(argv[i], "--allow-pvm") == 0) {
			allow_pvm = true;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			verbose++;
		} else if (strncmp(argv[i], "--config-file=", 14) != 0) {
			cli_error("'%s' cannot be combined with --config-file (Firecracker's format"
				  " says everything; arcvm's own is --config)", argv[i]);
			return CLI_USAGE;
		}
	}
	if (!file[0]) {
		cli_error("--config-file needs a FILE");
		return CLI_USAGE;
	}
	return cli_run_config_file(file, allow_pvm, verbose);
}

static int create_from_config(void *opaque, int console_in_fd, struct arcvm_vm **vm,
			      struct arcvm_error *err)
{
	struct arcvm_config *cfg = opaque;
	cfg->console_in_fd = console_in_fd;
	return arcvm_vm_create(cfg, vm, err);
}

int cli_run(int argc, char **argv)
{
	int fc_status = run_fc_config_file(argc, argv);
	if (fc_status >= 0)
		return fc_status;
	struct arcvm_config cfg;
	arcvm_config_init(&cfg);
	const char *append = NULL, *bios = NULL;
	int verbose = 0;
	bool mem_given = false;
	/* The config file first, so the options parsed next override it. */
	struct cli_file_config file = { 0 };
	const char *config = cli_config_arg(argc, argv);
	char msg[CLI_ERRMSG];
	if (config && (cli_config_load(config, &file, msg, sizeof(msg)) ||
		       cli_config_apply(&file, &cfg, msg, sizeof(msg)))) {
		cli_error("%s", msg);
		cli_config_free(&file);
		return CLI_USAGE;
	}
	struct cli_net net = file.net;
	struct cli_shm shm = file.shm;
	if (parse_run_args(argc, argv, &cfg, &append, &bios, &mem_given, &verbose, &net, &shm)) {
		cli_config_free(&file);
		return CLI_USAGE;
	}
	if (cli_net_apply(&net, &cfg, msg, sizeof(msg))) {
		cli_error("%s", msg);
		cli_config_free(&file);
		return CLI_USAGE;
	}
	int shm_fd = -1;
	struct cli_bell *bell = NULL;     /* with --vsock, the doorbell of a path= region */
	if (cli_shm_apply(&shm, &cfg, &shm_fd, msg, sizeof(msg)) ||
	    (shm.path[0] && cfg.vsock_uds_path &&
	     cli_bell_start(shm.path, cfg.vsock_uds_path, &bell, msg, sizeof(msg)))) {
		if (shm_fd >= 0)
			close(shm_fd);
		cli_error("%s", msg);
		cli_config_free(&file);
		return CLI_ERROR;
	}
	char netarg[96];
	cli_net_cmdline(&net, netarg, sizeof(netarg));
	char *owned_kernel = NULL, *owned_initrd = NULL, *cmdline = NULL;
	uint8_t *firmware = NULL;
	int status = CLI_ERROR;
	if (bios) {
		if (load_bios(bios, &cfg, mem_given, &firmware))
			goto out;
	} else if (!cfg.kernel_path && default_guest(&cfg, &owned_kernel, &owned_initrd)) {
		goto out;
	}
	/* Debian's virtio drivers are modules: the initramfs loads them when asked. */
	bool virtio = cfg.ndrives || cfg.rng || cfg.console == ARCVM_CONSOLE_VIRTIO ||
		      cfg.vsock_uds_path || cfg.nshares || cfg.nnets;
	if (asprintf(&cmdline, "%s%s%s%s%s%s", cfg.cmdline ? cfg.cmdline : DEFAULT_CMDLINE,
		     virtio ? " arcvm.modules=1" : "", netarg,
		     cfg.console == ARCVM_CONSOLE_VIRTIO ? " arcvm.console=hvc0" : "",
		     append ? " " : "", append ? append : "") < 0)
		goto out;
	cfg.cmdline = cmdline;
	cfg.log = cli_log;
	cfg.log_opaque = &verbose;
	status = cli_run_attached(create_from_config, &cfg);
out:
	free(owned_kernel);
	free(owned_initrd);
	free(cmdline);
	free(firmware);
	cli_bell_stop(bell);
	if (shm_fd >= 0)
		close(shm_fd);
	for (int i = 0; i < cfg.ndrives; i++)
		cli_drive_free(&cfg.drives[i]);
	cli_config_free(&file);
	return status;
}

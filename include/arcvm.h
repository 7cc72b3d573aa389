/*
 * arcvm.h - the public API of libarcvm, the only header a library user includes.
 *
 * Errors: every call that can fail returns 0 or a negative ARCVM_E_* code and,
 * when `err` is not NULL, fills it with the code and a message naming what
 * failed. The library never exits the process and never prints; diagnostics go
 * through the log callback in the config.
 *
 * Threads: a `struct arcvm_vm` may be driven from one controlling thread at a
 * time. Each declaration below says where it may be called from ("Thread:");
 * where it says nothing, only the controlling thread may call it.
 * arcvm_vm_request_stop() may be called from any thread or a signal handler,
 * arcvm_inject_irq() and arcvm_vm_send_ctrl_alt_del() from any thread.
 * Guide: docs/api.md.
 */
#ifndef ARCVM_H
#define ARCVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum arcvm_code {
	ARCVM_OK = 0,
	ARCVM_E_INVALID = -1,     /* a bad argument or config value */
	ARCVM_E_UNSUPPORTED = -2, /* not implemented, or the host cannot do it */
	ARCVM_E_BAD_STATE = -3,   /* the VM is not in a state that allows the call */
	ARCVM_E_HYPERVISOR = -4,  /* /dev/kvm missing, refused, or an ioctl failed */
	ARCVM_E_IO = -5,          /* a host file or descriptor operation failed */
	ARCVM_E_NOMEM = -6,       /* host memory could not be had */
	ARCVM_E_FORMAT = -7,      /* a file is truncated, foreign or malformed */
	ARCVM_E_PERMISSION = -8,  /* the host refused access */
	ARCVM_E_NOT_FOUND = -9,   /* a named file or object does not exist */
	ARCVM_E_BUSY = -10,       /* a resource is locked by someone else */
};

#define ARCVM_ERROR_MAX 512

struct arcvm_error {
	int code;                   /* one of enum arcvm_code */
	char msg[ARCVM_ERROR_MAX];  /* what failed, for a human */
};

/* Returns a static name such as "ARCVM_E_INVALID" for a code. */
const char *arcvm_code_name(int code);

enum arcvm_log_level { ARCVM_LOG_ERROR, ARCVM_LOG_WARN, ARCVM_LOG_INFO, ARCVM_LOG_DEBUG };
typedef void (*arcvm_log_fn)(void *opaque, enum arcvm_log_level level, const char *msg);

/* What the guest did that ended the VM. */
enum arcvm_exit_reason {
	ARCVM_EXIT_NONE = 0,       /* still running, or never booted */
	ARCVM_EXIT_POWEROFF,       /* the guest powered off (ACPI S5) */
	ARCVM_EXIT_REBOOT,         /* the guest asked for a reset (i8042 or ACPI) */
	ARCVM_EXIT_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN: the vCPU triple-faulted */
	ARCVM_EXIT_PANIC,          /* the guest kernel panicked (seen on its console) */
	ARCVM_EXIT_HALT,           /* a native-tier guest ran HLT with nothing to wake it */
	ARCVM_EXIT_STOPPED,        /* the host stopped it (arcvm_vm_request_stop / shutdown) */
	ARCVM_EXIT_ERROR,          /* the VMM hit an error it could not recover from */
};

const char *arcvm_exit_reason_name(enum arcvm_exit_reason r);

/* How the first vCPU starts. */
enum arcvm_boot_mode {
	ARCVM_BOOT_LINUX = 0, /* a bzImage or ELF vmlinux, 64-bit boot protocol */
	ARCVM_BOOT_RAW16,     /* a flat blob entered in real mode at CS:IP = 0:load_addr */
	ARCVM_BOOT_RAW64,     /* a flat blob entered in 64-bit long mode, identity-mapped */
};

enum arcvm_cache {
	ARCVM_CACHE_WRITEBACK = 0, /* flush advertised; guest flushes reach the disk (fdatasync) */
	ARCVM_CACHE_UNSAFE,        /* flush not advertised; data reaches the disk when the host writes it back */
};

/* A raw disk image attached as a virtio-blk device. */
struct arcvm_drive {
	const char *path;
	const char *id;            /* optional; the guest sees it as the device serial (get-id) */
	bool read_only;            /* the guest's writes fail with an I/O error; the file is opened O_RDONLY */
	bool root;                 /* boot with root=/dev/vdX on this drive */
	enum arcvm_cache cache;
};

#define ARCVM_MAX_DRIVES 8

/* A host folder shared with the guest over virtio-9p (9P2000.L). The guest
 * mounts it with: mount -t 9p -o trans=virtio,version=9p2000.L TAG DIR */
struct arcvm_share {
	const char *host_path;
	const char *tag;           /* mount tag, at most 31 bytes */
	bool read_only;            /* every write-type request fails with EROFS */
};

#define ARCVM_MAX_SHARES 8

/* How a virtio-net interface reaches the outside (docs/net.md). */
enum arcvm_net_mode {
	ARCVM_NET_USER = 0,        /* user-mode NAT through libslirp: no root, no host setup; the
	                            * guest is 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3 */
	ARCVM_NET_TAP,             /* a host TAP device, created when absent (needs CAP_NET_ADMIN) */
};

/* A host port forwarded to a guest port (user-mode NAT only). */
struct arcvm_port_forward {
	bool udp;                  /* false: TCP */
	uint32_t host_addr;        /* IPv4 address to listen on, host byte order (0x7f000001 is
	                            * 127.0.0.1; 0 listens on every address) */
	uint16_t host_port;        /* 1..65535 */
	uint16_t guest_port;       /* 1..65535, on the guest's address 10.0.2.15 */
};

#define ARCVM_MAX_FORWARDS 16

/* A virtio-net interface; the guest sees them as eth0, eth1... in order. */
struct arcvm_net {
	enum arcvm_net_mode mode;
	const char *tap_name;      /* TAP: the host device name (at most 15 bytes) */
	uint8_t mac[6];            /* guest MAC; all zero: 52:54:00:12:34:56 + index */
	struct arcvm_port_forward forwards[ARCVM_MAX_FORWARDS];
	int nforwards;
};

#define ARCVM_MAX_NETS 4

enum arcvm_console {
	ARCVM_CONSOLE_SERIAL = 0,  /* COM1 (ttyS0) */
	ARCVM_CONSOLE_VIRTIO,      /* virtio console (hvc0); COM1 still exists */
};

struct arcvm_config {
	uint64_t mem_size;          /* bytes of guest RAM; must be > 0 */
	int cpus;                   /* number of vCPUs, 1..ARCVM_MAX_CPUS */
	enum arcvm_boot_mode boot;
	const char *kernel_path;    /* LINUX: bzImage or ELF vmlinux */
	const char *initrd_path;    /* LINUX: optional */
	const char *cmdline;        /* LINUX: kernel command line (console=ttyS0 ... ) */
	const void *raw_image;      /* RAW16/RAW64: code to load */
	size_t raw_size;
	uint64_t raw_load_addr;     /* RAW16/RAW64: where it is loaded */
	uint64_t raw_entry;         /* RAW16/RAW64: entry GPA; 0 means raw_load_addr. In real
	                             * mode CS:IP is derived from it (CS = entry's 64 KiB segment) */

	/* Serial console (COM1): guest output is written to console_out_fd, and
	 * bytes read from console_in_fd are fed to the guest. -1 disables either. */
	int console_in_fd;
	int console_out_fd;

	enum arcvm_console console;
	struct arcvm_drive drives[ARCVM_MAX_DRIVES];
	int ndrives;
	bool rng;                   /* attach a virtio-rng device */
	struct arcvm_share shares[ARCVM_MAX_SHARES];
	int nshares;
	struct arcvm_net nets[ARCVM_MAX_NETS];
	int nnets;
	/* virtio-vsock, Firecracker's convention: when vsock_uds_path is set the
	 * guest (CID vsock_cid, >= 3) is reached by connecting to that Unix socket
	 * and sending "CONNECT <port>\n"; the guest's connections to CID 2 port P
	 * go to the Unix socket "<vsock_uds_path>_<P>". */
	const char *vsock_uds_path;
	uint32_t vsock_cid;

	/* Have KVM log the pages the guest writes, which diff snapshots need
	 * (Firecracker's machine-config track_dirty_pages). Costs a little on
	 * every first write to a page after each snapshot. */
	bool track_dirty_pages;

	/* /dev/kvm on a PVM host (kvm_pvm) cannot boot an unmodified Linux kernel,
	 * so arcvm_vm_create refuses a LINUX boot there unless this is set (for
	 * a kernel built as a PVM guest). */
	bool allow_pvm;

	/* RAW16/RAW64: also create the in-kernel irqchip (PIC, IOAPIC, LAPIC) and
	 * PIT, so arcvm_inject_irq works. HLT then sleeps in the kernel until an
	 * interrupt instead of ending the VM. A LINUX boot always has them. */
	bool irqchip;

	/* Zero-copy shared memory (docs/shared-memory.md): when shared_size > 0,
	 * bytes [0, shared_size) of shared_fd (from arcvm_alloc_shared, or any
	 * regular file opened O_RDWR) are mapped MAP_SHARED into the guest's
	 * physical address space above its RAM, where the e820 map shows them
	 * reserved and the kernel command line names them as
	 * "arcvm.shm=SIZE@GPA" (hexadecimal). shared_size must be a multiple of
	 * 4 KiB; arcvm keeps its own mapping, the caller may close shared_fd
	 * after arcvm_vm_create. arcvm never reads the region's contents. A VM
	 * with shared memory cannot be snapshotted. */
	int shared_fd;
	uint64_t shared_size;

	arcvm_log_fn log;           /* optional */
	void *log_opaque;
};

#define ARCVM_MAX_CPUS 64

/* Fills a config with defaults: 512 MiB, 1 vCPU, Linux boot, console on fds 0/1,
 * no shared memory (shared_fd -1). */
void arcvm_config_init(struct arcvm_config *cfg);

/* Parses a size such as "512M", "4GB", "4GiB", "65536" (bytes) strictly:
 * no trailing junk, no negative numbers, no overflow. Units K/M/G/T are
 * powers of 1024, with optional "B" or "iB". "0" parses to 0 (callers decide
 * whether that is acceptable). Fails with ARCVM_E_INVALID. */
int arcvm_parse_size(const char *s, uint64_t *out, struct arcvm_error *err);

struct arcvm_vm;

enum arcvm_state {
	ARCVM_STATE_CREATED,
	ARCVM_STATE_RUNNING,
	ARCVM_STATE_PAUSED,
	ARCVM_STATE_STOPPED,
};

const char *arcvm_state_name(enum arcvm_state s);

/* Opens /dev/kvm, creates the VM, its memory, devices and vCPUs, and loads the
 * guest image. Nothing runs yet. On failure nothing is left allocated.
 * Thread: any; the calling thread becomes the VM's controlling thread. */
int arcvm_vm_create(const struct arcvm_config *cfg, struct arcvm_vm **out,
		    struct arcvm_error *err);

/* Starts the vCPU and I/O threads. Created -> Running, else ARCVM_E_BAD_STATE. */
int arcvm_vm_boot(struct arcvm_vm *vm, struct arcvm_error *err);

/* Waits until the guest ends the VM or it is stopped, at most timeout_ms
 * milliseconds (-1: forever). Returns 0 and sets *reason once Stopped;
 * ARCVM_E_BUSY when the timeout ran out first. */
int arcvm_vm_wait(struct arcvm_vm *vm, int timeout_ms, enum arcvm_exit_reason *reason,
		  struct arcvm_error *err);

/* Asks the VM to stop; arcvm_vm_wait then returns. Thread: any, and
 * async-signal-safe. */
void arcvm_vm_request_stop(struct arcvm_vm *vm);

/* Running -> Paused and back. */
int arcvm_vm_pause(struct arcvm_vm *vm, struct arcvm_error *err);
int arcvm_vm_resume(struct arcvm_vm *vm, struct arcvm_error *err);

/* Stops every thread; Running/Paused/Created -> Stopped. Idempotent on a
 * Stopped VM. */
int arcvm_vm_shutdown(struct arcvm_vm *vm, struct arcvm_error *err);

/* Shuts down if needed and frees everything. NULL is a no-op. */
void arcvm_vm_destroy(struct arcvm_vm *vm);

enum arcvm_state arcvm_vm_state(const struct arcvm_vm *vm);

/* The configuration the VM was created with, or read back from its snapshot
 * by arcvm_vm_restore (a drive replaced since shows its new path). Read
 * only; valid until arcvm_vm_destroy. For a created VM, strings the library
 * does not copy (drive paths and ids, shares, the vsock path) are the
 * caller's, as given. */
const struct arcvm_config *arcvm_vm_config(const struct arcvm_vm *vm);

/* The last line the guest kernel printed with "Kernel panic" in it, or NULL. */
const char *arcvm_vm_panic_message(const struct arcvm_vm *vm);

/* Host access to guest memory, bounds-checked: fails with ARCVM_E_INVALID
 * unless [gpa, gpa+len) lies inside guest RAM or inside one mapped region
 * (arcvm_map_region), and a write into a read-only region with
 * ARCVM_E_PERMISSION. Nothing is copied on failure. Any state; while the VM
 * runs, the guest may change the bytes under a read.
 * Thread: the controlling thread, or any thread while no arcvm_map_region /
 * arcvm_unmap_region / arcvm_vm_destroy runs. */
int arcvm_read_guest(struct arcvm_vm *vm, uint64_t gpa, void *buf, size_t len,
		     struct arcvm_error *err);
int arcvm_write_guest(struct arcvm_vm *vm, uint64_t gpa, const void *buf, size_t len,
		      struct arcvm_error *err);

/* Typed access: one naturally aligned load or store of 1, 2, 4 or 8 bytes,
 * so it is atomic with respect to the guest's vCPUs (a running guest sees the
 * old or the new value, never a mix). Little-endian, as the guest sees it.
 * Fails like arcvm_read_guest/arcvm_write_guest, and with ARCVM_E_INVALID
 * when gpa is not a multiple of the width. Thread: as arcvm_read_guest. */
int arcvm_read_guest_u8(struct arcvm_vm *vm, uint64_t gpa, uint8_t *out, struct arcvm_error *err);
int arcvm_read_guest_u16(struct arcvm_vm *vm, uint64_t gpa, uint16_t *out,
			 struct arcvm_error *err);
int arcvm_read_guest_u32(struct arcvm_vm *vm, uint64_t gpa, uint32_t *out,
			 struct arcvm_error *err);
int arcvm_read_guest_u64(struct arcvm_vm *vm, uint64_t gpa, uint64_t *out,
			 struct arcvm_error *err);
int arcvm_write_guest_u8(struct arcvm_vm *vm, uint64_t gpa, uint8_t v, struct arcvm_error *err);
int arcvm_write_guest_u16(struct arcvm_vm *vm, uint64_t gpa, uint16_t v, struct arcvm_error *err);
int arcvm_write_guest_u32(struct arcvm_vm *vm, uint64_t gpa, uint32_t v, struct arcvm_error *err);
int arcvm_write_guest_u64(struct arcvm_vm *vm, uint64_t gpa, uint64_t v, struct arcvm_error *err);

/* Loads a blob at gpa: the whole file `path` when path is set (buf NULL,
 * len 0), else len bytes from buf. The blob must fit inside guest RAM or one
 * writable mapped region, else ARCVM_E_INVALID and nothing is written; a
 * missing file is ARCVM_E_NOT_FOUND. *loaded (optional) gets the byte count.
 * Any state but Running (the guest would see a half-written blob).
 * Thread: the controlling thread. */
int arcvm_image_load_region(struct arcvm_vm *vm, uint64_t gpa, const char *path,
			    const void *buf, size_t len, size_t *loaded, struct arcvm_error *err);

/*
 * Memory regions: host memory, or a file or memfd, mapped into the guest's
 * physical address space next to its RAM. The guest's vCPUs reach a region
 * like RAM; virtio devices do not (a region is not DMA-able, and not in the
 * guest's e820 RAM map), so unmapping never pulls memory from under a device.
 */
#define ARCVM_REGION_READONLY  (1u << 0)  /* KVM_MEM_READONLY: guest writes become
                                           * MMIO exits (see arcvm_exit_handler) */
#define ARCVM_REGION_DIRTY_LOG (1u << 1)  /* track guest writes (arcvm_region_dirty_log) */

#define ARCVM_MAX_REGIONS 32

struct arcvm_region {
	uint64_t gpa;              /* first guest physical address; page-aligned */
	uint64_t size;             /* bytes; a multiple of the page size, > 0 */
	void *host;                /* page-aligned host memory to map, or NULL to map fd */
	int fd;                    /* when host is NULL: a regular file or memfd, mapped
	                            * MAP_SHARED (opened O_RDWR unless READONLY); arcvm
	                            * keeps its own mapping, the caller may close fd */
	uint64_t offset;           /* into fd; page-aligned; [offset, offset+size) must
	                            * lie inside the file, which must not shrink later */
	uint32_t flags;            /* ARCVM_REGION_* */
};

/* Maps a region. Allowed while Created or Paused (not Running: the guest
 * would see memory appear between two instructions), else ARCVM_E_BAD_STATE.
 * Refused with ARCVM_E_INVALID: an unaligned gpa, size, host or offset; a
 * range that wraps or lies beyond the guest's physical address width; a
 * range overlapping guest RAM, another region, an arcvm device's MMIO window
 * (virtio-mmio, IOAPIC, LAPIC, KVM's TSS and identity-map pages) or an MMIO
 * exit handler (allowed over a read-only region: it receives the writes); a
 * file too short for offset+size; more than ARCVM_MAX_REGIONS regions or
 * KVM's slot limit. READONLY with DIRTY_LOG is ARCVM_E_INVALID; a host whose
 * KVM lacks read-only slots gives ARCVM_E_UNSUPPORTED. */
int arcvm_map_region(struct arcvm_vm *vm, const struct arcvm_region *region,
		     struct arcvm_error *err);

/* Removes the region that starts at gpa (its KVM slot and arcvm's mapping of
 * its file; caller memory is left to the caller). Any state but Running,
 * else ARCVM_E_BAD_STATE; no region starting at gpa is ARCVM_E_NOT_FOUND. */
int arcvm_unmap_region(struct arcvm_vm *vm, uint64_t gpa, struct arcvm_error *err);

/* For a region mapped with ARCVM_REGION_DIRTY_LOG: sets bit i of `bitmap`
 * (bit i%64 of word i/64) for each page i of the region the guest wrote
 * since the last call (or the mapping), and clears KVM's log. `words` must
 * hold one bit per page. Any state. */
int arcvm_region_dirty_log(struct arcvm_vm *vm, uint64_t gpa, uint64_t *bitmap, size_t words,
			   struct arcvm_error *err);

/* Creates the memory for cfg.shared_fd: `size` bytes (a multiple of 4 KiB,
 * > 0), read as zeros until written. With path NULL, an anonymous memfd
 * that only descriptors reach (pass it to another process over a Unix
 * socket or by inheritance). With a path (e.g. /dev/shm/NAME), that file is
 * opened, or created mode 0600, so another process or VM opening the same
 * path shares the bytes; an existing file shorter than `size` is extended,
 * a longer one is kept as it is. *fd gets an O_RDWR, close-on-exec
 * descriptor the caller owns. Fails with ARCVM_E_INVALID for a bad size or
 * a path that is not a regular file, and with the open's error otherwise. */
int arcvm_alloc_shared(uint64_t size, const char *path, int *fd, struct arcvm_error *err);

/* Where the VM's shared memory sits in guest physical memory: sets *gpa
 * and *size, or returns ARCVM_E_NOT_FOUND when the VM has none. Any state. */
int arcvm_shared_region(const struct arcvm_vm *vm, uint64_t *gpa, uint64_t *size,
			struct arcvm_error *err);

/* Interrupts, through the in-kernel irqchip (LINUX boots, or cfg.irqchip). */
enum arcvm_irq_kind {
	ARCVM_IRQ_LINE,            /* set GSI `gsi` (IOAPIC pin, 0..23) to `level` (KVM_IRQ_LINE) */
	ARCVM_IRQ_MSI,             /* one message-signalled interrupt (KVM_SIGNAL_MSI) */
};

struct arcvm_irq {
	enum arcvm_irq_kind kind;
	uint32_t gsi;              /* LINE: the pin; an edge is level 1 then level 0 */
	bool level;
	uint64_t msi_address;      /* MSI: 0xFEExxxxx (destination APIC ID in bits 19:12) */
	uint32_t msi_data;         /* MSI: vector in bits 7:0, delivery mode in 10:8 */
};

/* Raises or lowers a line, or sends an MSI. Without an in-kernel irqchip:
 * ARCVM_E_UNSUPPORTED. A pin above 23, an address outside the LAPIC's MSI
 * window or data with bits 31:16 set: ARCVM_E_INVALID. A Stopped VM:
 * ARCVM_E_BAD_STATE. An MSI no LAPIC accepts (masked, no such APIC) is lost,
 * as on hardware, and still returns 0. Thread: any. */
int arcvm_inject_irq(struct arcvm_vm *vm, const struct arcvm_irq *irq, struct arcvm_error *err);

/* Types Ctrl+Alt+Del on the guest's PS/2 keyboard (Firecracker's
 * SendCtrlAltDel). Linux reboots on it at once unless its init has taken the
 * key combination over (reboot(LINUX_REBOOT_CMD_CAD_OFF)); with reboot=k the
 * VM then ends with ARCVM_EXIT_REBOOT. ARCVM_E_BAD_STATE when the VM is not
 * Running or its guest has not enabled the keyboard (the i8042/atkbd
 * drivers did not bind), ARCVM_E_BUSY when the guest is not reading the
 * keyboard. Thread: any. */
int arcvm_vm_send_ctrl_alt_del(struct arcvm_vm *vm, struct arcvm_error *err);

/*
 * Exit handlers: a library user may emulate a port or MMIO range itself.
 * Registered while Created, or while Paused (a restored VM needs its
 * handlers again), else ARCVM_E_BAD_STATE; called on the vCPU thread that
 * exited, so a handler shared by several vCPUs locks its own state. `data`
 * holds `len` (1, 2, 4 or 8) little-endian bytes; a read fills it. Refused
 * with ARCVM_E_INVALID: ports beyond 0xffff; a range overlapping an arcvm
 * device (the UART, i8042, ACPI registers, virtio-mmio windows, with an
 * irqchip the in-kernel PIC, PIT, IOAPIC and LAPIC), another handler, guest
 * RAM or a writable mapped region (a read-only region is fine: the handler
 * then receives the guest's writes to it).
 */
enum arcvm_space { ARCVM_SPACE_PIO, ARCVM_SPACE_MMIO };
typedef void (*arcvm_io_fn)(void *opaque, uint64_t addr, bool is_write, void *data,
			    unsigned len);
int arcvm_exit_handler(struct arcvm_vm *vm, enum arcvm_space space, uint64_t base,
		       uint64_t len, arcvm_io_fn fn, void *opaque, struct arcvm_error *err);

/* Points drive `index` (its position in cfg.drives) at the image at `path`,
 * in any state but Stopped, like swapping a disk's media: the new image is
 * opened with the drive's read-only mode and locked, and the guest gets a
 * configuration-change interrupt and reads the new capacity. Fails with
 * ARCVM_E_INVALID for a bad index or path, the open and lock errors of a
 * drive (ARCVM_E_NOT_FOUND, ARCVM_E_BUSY, ...), leaving the old image. */
int arcvm_vm_drive_replace(struct arcvm_vm *vm, int index, const char *path,
			   struct arcvm_error *err);

/* vCPU registers, for tests and debuggers; the VM must not be Running
 * (ARCVM_E_BAD_STATE). */
struct arcvm_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};
int arcvm_vcpu_get_regs(struct arcvm_vm *vm, int cpu, struct arcvm_regs *regs,
			struct arcvm_error *err);

/*
 * Snapshots (format: docs/snapshot.md). A snapshot is two files: the state
 * (vCPUs, in-kernel irqchip, clock, every device) and the guest memory.
 */
enum arcvm_snapshot_type {
	ARCVM_SNAPSHOT_FULL = 0,   /* every page of guest RAM */
	ARCVM_SNAPSHOT_DIFF,       /* only pages dirtied since the previous snapshot of
	                            * this VM; restored on top of that snapshot's memory */
};

/* Writes a Paused VM's state to state_path and its memory to mem_path, each
 * under a temporary name renamed into place once complete, so a failure never
 * leaves a partial file under the final name. The VM stays Paused.
 *
 * FULL writes every page of RAM (a sparse file: all-zero pages are holes).
 * DIFF needs cfg.track_dirty_pages and an earlier snapshot of this VM (or the
 * snapshot it was restored from); its memory file holds only the pages
 * written since then, and its state file names the earlier memory files it
 * is restored on top of, which must stay where they are.
 * Fails with ARCVM_E_BAD_STATE unless Paused, ARCVM_E_UNSUPPORTED for a DIFF
 * without dirty tracking, ARCVM_E_IO when a file cannot be written. */
int arcvm_vm_snapshot(struct arcvm_vm *vm, enum arcvm_snapshot_type type,
		      const char *state_path, const char *mem_path, struct arcvm_error *err);

/* What restoring needs besides the snapshot: the host side of the VM. */
struct arcvm_restore {
	const char *state_path;
	const char *mem_path;       /* NULL: the memory file named in the state file */
	int console_in_fd;          /* as in struct arcvm_config; -1 disables */
	int console_out_fd;
	const char *vsock_uds_path; /* NULL: the path the snapshotted VM used */
	bool allow_pvm;
	arcvm_log_fn log;           /* optional */
	void *log_opaque;
};

/* Fills r with defaults: console on fds 0/1, everything else NULL/false. */
void arcvm_restore_init(struct arcvm_restore *r);

/* Creates a VM from a snapshot. It is left Paused; arcvm_vm_resume runs it.
 * Guest memory is mapped MAP_PRIVATE from the memory file, so pages load on
 * demand and the file is never written. A malformed, truncated or foreign
 * snapshot fails with ARCVM_E_FORMAT and a message naming what is wrong. */
int arcvm_vm_restore(const struct arcvm_restore *r, struct arcvm_vm **out,
		     struct arcvm_error *err);

/* True when /dev/kvm is PVM (kvm_pvm), which cannot boot an unmodified Linux. */
bool arcvm_host_is_pvm(void);

/*
 * arcvm call from C: run an IonVM function in a running VM's guest agent
 * (arcvm-init as PID 1: the built-in initramfs booted with `rdinit=/sbin/
 * arcvm-init arcvm.agent=1 arcvm.modules=1`, or a snapshot of it) and get
 * its value back. Values are in the encoding of docs/ionvm-call.md;
 * ion_literal_encode / ion_literal_format (ion/include/ion.h, linked into
 * libarcvm) turn them into text and back.
 */
enum arcvm_call_guest_error {
	ARCVM_CALL_OK = 0,       /* value holds the result */
	ARCVM_CALL_RAISED = 1,   /* the function raised an uncaught error: message has the trace */
	ARCVM_CALL_REFUSED = 2,  /* classes that do not load there, the wrong number of arguments,
	                          * a function or pid among the values */
	ARCVM_CALL_STUCK = 3,    /* every process in the guest waits forever */
};

struct arcvm_call_result {
	uint8_t *value;          /* ARCVM_CALL_OK: the encoded result, malloc'd */
	size_t value_len;
	int guest_error;         /* enum arcvm_call_guest_error */
	char *message;           /* otherwise: the guest's message (and stack trace), malloc'd */
};

/* Runs the entry point (manifest main-class and entry-point) of the IonPack
 * at pack_path in vm, which must be Running with cfg.vsock_uds_path set,
 * with `args`: one encoded tuple of the arguments (args_len bytes). Waits
 * for the agent to listen on vsock port 1024 (a VM just booted), sends the
 * pack's classes and the arguments, and fills *res. Everything, boot wait
 * included, is bounded by timeout_ms (-1: no bound).
 *
 * Returns 0 once the guest answered: with res->guest_error 0 the value is in
 * res->value, else res->message says why there is none. Fails with
 * ARCVM_E_NOT_FOUND / ARCVM_E_FORMAT for a pack that cannot be read or does
 * not load (checked on the host first), ARCVM_E_BAD_STATE when the VM is not
 * Running or stops, ARCVM_E_BUSY when the timeout ran out, ARCVM_E_FORMAT
 * for a malformed answer from the guest, ARCVM_E_IO when the agent refused
 * or the connection broke; *res is then empty. What the function prints goes
 * to the log callback (ARCVM_LOG_INFO). The VM keeps running; the caller
 * stops it. Thread: any thread (it only talks to the guest over the vsock
 * socket), one call per VM at a time. Free *res with arcvm_call_result_free. */
int arcvm_call(struct arcvm_vm *vm, const char *pack_path, const void *args, size_t args_len,
	       int timeout_ms, struct arcvm_call_result *res, struct arcvm_error *err);
void arcvm_call_result_free(struct arcvm_call_result *res);

#ifdef __cplusplus
}
#endif
#endif

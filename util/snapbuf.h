/*
 * snapbuf.h - the snapshot state file's container (docs/snapshot.md): a
 * checksummed header and a payload of tagged sections, each a run of typed
 * little-endian fields. Every component (vCPU, irqchip, each device) writes
 * its own sections and reads them back in the same order.
 *
 * Writing never fails midway: an allocation failure is remembered and
 * reported once by snap_write_file(). Reading never runs past a section: a
 * field that does not fit marks the reader bad and reads as zero, so a
 * loader reads every field and checks once with snap_end(). A loader must
 * still validate every value it reads; the checksum only catches damage.
 */
#ifndef UTIL_SNAPBUF_H
#define UTIL_SNAPBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

#define SNAP_MAGIC       "ARCVMSNP"
#define SNAP_VERSION     2u   /* 2: the i8042 section KBDC */
#define SNAP_HEADER_LEN  32u
#define SNAP_MAX_STATE   (64u << 20)   /* larger state files are refused unread */
#define SNAP_STR_MAX     4096u         /* longest string field, NUL included */

/* A section tag is four ASCII characters, stored as a little-endian u32. */
#define SNAP_TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

struct snap_writer {
	uint8_t *buf;        /* header space, then the payload */
	size_t len, cap;
	size_t section;      /* offset of the open section's header, 0 when none */
	bool nomem;
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* Opens a section; the previous one, if any, must have been closed. */
void snap_begin(struct snap_writer *w, uint32_t tag);
void snap_end_section(struct snap_writer *w);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
/* A length-prefixed byte string; snap_get_blob wants the same length back. */
void snap_put_blob(struct snap_writer *w, const void *p, uint32_t n);
/* A string, or NULL (told apart from ""). */
void snap_put_str(struct snap_writer *w, const char *s);

/* Seals the header (length, CRC) and writes the file atomically: a temporary
 * name in the same folder, fsync, rename over `path`, fsync of the folder. On
 * any failure the temporary file is removed and `path` is untouched. */
int snap_write_file(struct snap_writer *w, const char *path, struct arcvm_error *err);

/* Like snap_write_file, but stops before the rename: the complete, synced
 * file is left under the temporary name put in tmp (snap_tmp_rename next). */
int snap_write_tmp(struct snap_writer *w, const char *path, char *tmp, size_t tmp_len,
		   struct arcvm_error *err);

/* The atomic protocol, shared with the memory file: snap_tmp_open creates and
 * opens "<path>.tmp.<pid>" for writing and puts its name in tmp;
 * snap_tmp_finish fsyncs and closes it; snap_tmp_rename renames it over path
 * and fsyncs the folder. Each unlinks tmp when it fails; snap_tmp_commit is
 * finish then rename. */
int snap_tmp_open(const char *path, char *tmp, size_t tmp_len, struct arcvm_error *err);
int snap_tmp_finish(int fd, const char *tmp, struct arcvm_error *err);
int snap_tmp_rename(const char *tmp, const char *path, struct arcvm_error *err);
int snap_tmp_commit(int fd, const char *tmp, const char *path, struct arcvm_error *err);

struct snap_reader {
	const uint8_t *p;
	size_t len, off;
	bool bad;            /* a field ran past the end or was malformed */
	uint32_t tag;        /* the section's tag (0 for the whole payload) */
};

/* Checks a whole state file's bytes: length, magic, version, payload length
 * and CRC. On success r covers the payload. ARCVM_E_FORMAT names the fault. */
int snap_open(const void *file, size_t len, struct snap_reader *r, struct arcvm_error *err);

/* Reads a state file into a malloc'd buffer, refusing empty files and files
 * larger than SNAP_MAX_STATE before reading them. */
int snap_read_file(const char *path, uint8_t **out, size_t *len, struct arcvm_error *err);

/* Takes the next section of `r`, which must carry `tag`; *sec then covers its
 * body. `what` names it in errors ("vCPU 0"). */
int snap_section(struct snap_reader *r, uint32_t tag, const char *what, struct snap_reader *sec,
		 struct arcvm_error *err);
/* True when the next section of r carries `tag` (an optional section). */
bool snap_next_is(const struct snap_reader *r, uint32_t tag);

uint8_t snap_get_u8(struct snap_reader *r);
uint16_t snap_get_u16(struct snap_reader *r);
uint32_t snap_get_u32(struct snap_reader *r);
uint64_t snap_get_u64(struct snap_reader *r);
bool snap_get_bool(struct snap_reader *r);
/* A blob of exactly n bytes (dst is zeroed when it is not). */
void snap_get_blob(struct snap_reader *r, void *dst, uint32_t n);
/* A blob of at most max bytes; returns its length (0 and bad when longer). */
uint32_t snap_get_blob_max(struct snap_reader *r, void *dst, uint32_t max);
/* A string into buf (SNAP_STR_MAX bytes); returns buf, or NULL for a NULL
 * string. Embedded NULs or an over-long string mark r bad. */
const char *snap_get_str(struct snap_reader *r, char *buf);

/* Fails with ARCVM_E_FORMAT, naming `what`, unless every field read fit and
 * the whole section was consumed. */
int snap_done(const struct snap_reader *r, const char *what, struct arcvm_error *err);
/* Marks r bad (a loader found a value out of range). */
void snap_reject(struct snap_reader *r);

#endif

/*
 * snapshot.h - what vmm/snapshot.c keeps between snapshots of one VM and the
 * config section it shares with snapshot_config.c. The file format is in
 * docs/snapshot.md.
 *
 * Memory layers: a full memory file is layer 0; each diff snapshot adds a
 * layer holding only the pages dirtied since the layer below, with a bitmap
 * of those pages. A restore maps layer 0 and copies each later layer's pages
 * on top. Owned by the controlling thread.
 */
#ifndef VMM_SNAPSHOT_H
#define VMM_SNAPSHOT_H

#include <stdint.h>

#include "arcvm.h"
#include "util/snapbuf.h"

#define SNAP_MAX_LAYERS 32
#define SNAP_PAGE 4096ull
#define SNAP_CONFIG_STRINGS (2 * ARCVM_MAX_DRIVES + 2 * ARCVM_MAX_SHARES + 4)

struct snap_layer {
	char *path;          /* absolute path of the memory file */
	uint64_t *bitmap;    /* pages this layer holds; NULL for a full layer */
	uint64_t id;         /* random; also in the memory file's trailer, so a state
	                      * file and a memory file from different snapshots are
	                      * never restored together */
};

/* A memory file is RAM (regions end to end), then this trailer. */
#define SNAP_MEM_TRAILER 4096u
#define SNAP_MEM_MAGIC "ARCVMMEM"

/* Strings of a restored config, owned for the VM's lifetime. */
struct snap_strings {
	char *s[SNAP_CONFIG_STRINGS];
	int n;
};

struct vm_snap {
	struct snap_layer layers[SNAP_MAX_LAYERS];
	int nlayers;         /* 0 until the first snapshot or a restore */
	uint64_t npages;     /* pages of RAM; bitmaps hold npages bits */
	struct snap_strings strings;
};

void snap_config_save(const struct arcvm_config *cfg, struct snap_writer *w);
/* Fills cfg (console fds and the log left at their defaults) from the CONF
 * section, keeping its strings in st. Values are range-checked. */
int snap_config_load(struct snap_reader *r, struct arcvm_config *cfg, struct snap_strings *st,
		     struct arcvm_error *err);
void snap_strings_free(struct snap_strings *st);

#endif

/*
 * snapshot_config.c - the "CONF" section of a state file: the parts of the
 * VM's config that shape the machine (memory, vCPUs, devices), from which a
 * restore rebuilds the same machine before loading its state. Host-side
 * settings (console fds, the log) come from struct arcvm_restore instead.
 */
#include "vmm/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define TAG_CONF SNAP_TAG('C', 'O', 'N', 'F')

void snap_config_save(const struct arcvm_config *cfg, struct snap_writer *w)
{
	snap_begin(w, TAG_CONF);
	snap_put_u64(w, cfg->mem_size);
	snap_put_u32(w, (uint32_t)cfg->cpus);
	snap_put_u32(w, (uint32_t)cfg->boot);
	snap_put_u32(w, (uint32_t)cfg->console);
	snap_put_u8(w, cfg->rng);
	snap_put_u8(w, cfg->track_dirty_pages);
	snap_put_str(w, cfg->cmdline);
	snap_put_u32(w, (uint32_t)cfg->ndrives);
	for (int i = 0; i < cfg->ndrives; i++) {
		const struct arcvm_drive *d = &cfg->drives[i];
		snap_put_str(w, d->path);
		snap_put_str(w, d->id);
		snap_put_u8(w, d->read_only);
		snap_put_u8(w, d->root);
		snap_put_u32(w, (uint32_t)d->cache);
	}
	snap_put_u32(w, (uint32_t)cfg->nshares);
	for (int i = 0; i < cfg->nshares; i++) {
		const struct arcvm_share *sh = &cfg->shares[i];
		snap_put_str(w, sh->host_path);
		snap_put_str(w, sh->tag);
		snap_put_u8(w, sh->read_only);
	}
	snap_put_str(w, cfg->vsock_uds_path);
	snap_put_u32(w, cfg->vsock_cid);
	snap_end_section(w);
}

/* Keeps a string read from the state file for as long as the VM lives. */
static const char *keep(struct snap_strings *st, struct snap_reader *r)
{
	char buf[SNAP_STR_MAX];
	const char *s = snap_get_str(r, buf);
	if (!s || r->bad)
		return NULL;
	if (st->n == SNAP_CONFIG_STRINGS) {
		snap_reject(r);
		return NULL;
	}
	char *copy = strdup(s);
	if (!copy) {
		snap_reject(r);
		return NULL;
	}
	st->s[st->n++] = copy;
	return copy;
}

void snap_strings_free(struct snap_strings *st)
{
	for (int i = 0; i < st->n; i++)
		free(st->s[i]);
	st->n = 0;
}

static void read_drives(struct arcvm_config *cfg, struct snap_reader *s, struct snap_strings *st)
{
	uint32_t n = snap_get_u32(s);
	if (n > ARCVM_MAX_DRIVES) {
		snap_reject(s);
		return;
	}
	cfg->ndrives = (int)n;
	for (uint32_t i = 0; i < n; i++) {
		struct arcvm_drive *d = &cfg->drives[i];
		d->path = keep(st, s);
		d->id = keep(st, s);
		d->read_only = snap_get_bool(s);
		d->root = snap_get_bool(s);
		uint32_t cache = snap_get_u32(s);
		if (!d->path || cache > ARCVM_CACHE_UNSAFE)
			snap_reject(s);
		d->cache = (enum arcvm_cache)cache;
	}
}

static void read_shares(struct arcvm_config *cfg, struct snap_reader *s, struct snap_strings *st)
{
	uint32_t n = snap_get_u32(s);
	if (n > ARCVM_MAX_SHARES) {
		snap_reject(s);
		return;
	}
	cfg->nshares = (int)n;
	for (uint32_t i = 0; i < n; i++) {
		struct arcvm_share *sh = &cfg->shares[i];
		sh->host_path = keep(st, s);
		sh->tag = keep(st, s);
		sh->read_only = snap_get_bool(s);
		if (!sh->host_path || !sh->tag)
			snap_reject(s);
	}
}

int snap_config_load(struct snap_reader *r, struct arcvm_config *cfg, struct snap_strings *st,
		     struct arcvm_error *err)
{
	struct snap_reader s;
	int rc = snap_section(r, TAG_CONF, "config", &s, err);
	if (rc)
		return rc;
	arcvm_config_init(cfg);
	cfg->mem_size = snap_get_u64(&s);
	uint32_t cpus = snap_get_u32(&s), boot = snap_get_u32(&s), console = snap_get_u32(&s);
	cfg->rng = snap_get_bool(&s);
	cfg->track_dirty_pages = snap_get_bool(&s);
	cfg->cmdline = keep(st, &s);
	read_drives(cfg, &s, st);
	read_shares(cfg, &s, st);
	cfg->vsock_uds_path = keep(st, &s);
	cfg->vsock_cid = snap_get_u32(&s);
	if (cfg->mem_size == 0 || (cfg->mem_size & 0xfff) || cfg->mem_size > (1ull << 46) ||
	    cpus < 1 || cpus > ARCVM_MAX_CPUS || boot > ARCVM_BOOT_RAW64 ||
	    console > ARCVM_CONSOLE_VIRTIO)
		snap_reject(&s);
	cfg->cpus = (int)cpus;
	cfg->boot = (enum arcvm_boot_mode)boot;
	cfg->console = (enum arcvm_console)console;
	return snap_done(&s, "config", err);
}

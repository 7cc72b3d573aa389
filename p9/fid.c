/*
 * fid.c - the bounded fid table (see fid.h). Invariants: index[] holds
 * exactly `count` non-zero slots, each reachable from its hash home by
 * probing without crossing an empty slot; fids[] entries are either in the
 * index or on the free list.
 */
#include "p9/fid.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "p9/proto.h"

static uint32_t home(const struct p9_fids *t, uint32_t id)
{
	return (id * 0x9e3779b1u) & (t->nslots - 1);
}

int p9_fids_init(struct p9_fids *t, uint32_t max)
{
	uint32_t nslots = 16;
	while (nslots < 2 * max)
		nslots *= 2;
	t->fids = calloc(max, sizeof(*t->fids));
	t->index = calloc(nslots, sizeof(*t->index));
	if (!t->fids || !t->index) {
		free(t->fids);
		free(t->index);
		return -ENOMEM;
	}
	t->nslots = nslots;
	t->max = max;
	t->count = 0;
	for (uint32_t i = 0; i < max; i++)
		t->fids[i].next_free = i + 2 <= max ? i + 2 : 0;
	t->free_head = max ? 1 : 0;
	return 0;
}

/* The index slot holding id, or nslots when absent. */
static uint32_t find_slot(const struct p9_fids *t, uint32_t id)
{
	for (uint32_t i = home(t, id);; i = (i + 1) & (t->nslots - 1)) {
		uint32_t e = t->index[i];
		if (e == 0)
			return t->nslots;
		if (t->fids[e - 1].id == id)
			return i;
	}
}

struct p9_fid *p9_fid_get(struct p9_fids *t, uint32_t id)
{
	uint32_t s = find_slot(t, id);
	return s == t->nslots ? NULL : &t->fids[t->index[s] - 1];
}

int p9_fid_add(struct p9_fids *t, uint32_t id, struct p9_fid **out)
{
	if (id == P9_NOFID)
		return -EBADF;
	if (find_slot(t, id) != t->nslots)
		return -EEXIST;
	if (t->free_head == 0)
		return -EMFILE;
	uint32_t e = t->free_head;
	struct p9_fid *f = &t->fids[e - 1];
	t->free_head = f->next_free;
	*f = (struct p9_fid){ .id = id, .fd = -1 };
	uint32_t i = home(t, id);
	while (t->index[i])
		i = (i + 1) & (t->nslots - 1);
	t->index[i] = e;
	t->count++;
	*out = f;
	return 0;
}

/* Empties slot i and moves later entries of the probe run back into the hole. */
static void unlink_slot(struct p9_fids *t, uint32_t i)
{
	uint32_t mask = t->nslots - 1, j = i;
	for (;;) {
		t->index[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (t->index[j] == 0)
				return;
			uint32_t k = home(t, t->fids[t->index[j] - 1].id);
			/* Entry j may stay when its home lies cyclically in (i, j]. */
			bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
			if (!stays)
				break;
		}
		t->index[i] = t->index[j];
		i = j;
	}
}

void p9_fid_remove(struct p9_fids *t, struct p9_fid *f)
{
	uint32_t s = find_slot(t, f->id);
	if (s == t->nslots)
		return;
	uint32_t e = t->index[s];
	unlink_slot(t, s);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	*f = (struct p9_fid){ .fd = -1, .next_free = t->free_head };
	t->free_head = e;
	t->count--;
}

void p9_fids_clear(struct p9_fids *t)
{
	for (uint32_t s = 0; s < t->nslots && t->count; s++) {
		/* Removal may shift a later entry into slot s: look again. */
		while (t->index[s])
			p9_fid_remove(t, &t->fids[t->index[s] - 1]);
	}
}

void p9_fids_free(struct p9_fids *t)
{
	if (!t->fids)
		return;
	p9_fids_clear(t);
	free(t->fids);
	free(t->index);
	t->fids = NULL;
	t->index = NULL;
}

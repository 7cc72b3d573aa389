/* actor.h - the slow halves of the actor instructions: spawn, link,
 * monitor and receive deadlines. Each returns 0, or ION_NATIVE_ERROR after
 * raising in p. */
#ifndef ION_ACTOR_H
#define ION_ACTOR_H

#include <stdint.h>

#include "ion/value.h"

struct ion_proc;

/* Deadline of a receive_timeout of v ms: 0 and *deadline set, 1 for an
 * infinite wait, or an error. */
int ion_actor_deadline(struct ion_proc *p, ion_value v, uint64_t *deadline);
int ion_actor_link(struct ion_proc *p, ion_value pid);
int ion_actor_monitor(struct ion_proc *p, ion_value pid, ion_value *ref);
/* spawn fn with the items of args (tuple, array or nil) as arguments. */
int ion_actor_spawn(struct ion_proc *p, ion_value fn, ion_value args, ion_value *out);

#endif

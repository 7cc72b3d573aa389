/*
 * shm_bell.h - the shared-memory doorbell of `arcvm exec` and `arcvm run`
 * (docs/shared-memory.md): lets a guest, and every other VM or process using
 * the same --shared-mem path=FILE, wake each other instead of polling.
 *
 * Guest side: `arcvm-shm ring` and `arcvm-shm wait` connect to vsock port
 * CLI_BELL_PORT on the host (CID 2); the VMM hands such a connection to the
 * Unix socket "<vsock path>_<port>", where this relay listens. One byte in:
 * 'R' rings the peers (answer 'K'), 'W' waits until a peer rings (answer
 * 'N'). A ring that finds no waiter is latched: the next 'W' returns at once.
 *
 * Between processes: each relay binds a Unix datagram socket FILE.bell/<pid>
 * and a ring sends one datagram to every other socket in that folder.
 *
 * The relay is its own thread with its own poll loop; the guest may send
 * anything, hold connections open or ring in a loop: connections are
 * bounded, each carries at most one byte of command, and rings coalesce.
 */
#ifndef CLI_SHM_BELL_H
#define CLI_SHM_BELL_H

#include <stddef.h>

#define CLI_BELL_PORT 1025u

struct cli_bell;

/* Starts the relay for the region file `region_path`, serving guest
 * connections on "<uds_path>_<CLI_BELL_PORT>". 0, or -1 with a message. */
int cli_bell_start(const char *region_path, const char *uds_path, struct cli_bell **out,
		   char *err, size_t errlen);

/* Stops the thread and removes both sockets. NULL is a no-op. */
void cli_bell_stop(struct cli_bell *b);

#endif

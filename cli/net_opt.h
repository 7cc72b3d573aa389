/*
 * net_opt.h - the network options of `arcvm run` and `arcvm exec` and the
 * config file's "network" key (docs/cli.md, docs/net.md):
 *   --net [user|tap=NAME][,mac=MAC][,ip=ADDR/PREFIX|dhcp][,gw=ADDR][,dns=ADDR]
 *   --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]
 * The device side goes into struct arcvm_net; how the guest configures its
 * eth0 goes onto the kernel command line as arcvm.net=..., which guest/init.sh
 * and arcvm-init read.
 */
#ifndef CLI_NET_OPT_H
#define CLI_NET_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "arcvm.h"

struct cli_net {
	bool enabled;
	struct arcvm_net net;
	char tap[16];             /* net.tap_name points here */
	char ip[24];              /* "A.B.C.D/N", "dhcp", or "" (link up only) */
	char gw[16], dns[16];     /* "" when not given */
};

/* Parses a --net value (NULL or "" is "user") into *out, keeping forwards
 * already there. Returns 0, or -1 with a message naming the bad item. */
int cli_parse_net(const char *spec, struct cli_net *out, char *err, size_t errlen);

/* Parses a --publish value and adds it to out's forwards (enabling user-mode
 * networking when nothing was chosen yet). Returns 0 or -1 with a message. */
int cli_parse_publish(const char *spec, struct cli_net *out, char *err, size_t errlen);

/* True when argv word `w` reads as a --net value (user..., tap=...), so that
 * "--net tap=tap0" works as well as "--net=tap=tap0" and a bare "--net". */
bool cli_net_word(const char *w);

/* Puts the interface into cfg (nets[0]) when enabled; fails, with a message,
 * on forwards given for TAP. */
int cli_net_apply(struct cli_net *n, struct arcvm_config *cfg, char *err, size_t errlen);

/* " arcvm.net=IP,GW,DNS" (or "=dhcp", "=up") for the guest's eth0, or "" when
 * networking is off. Returns the length, or -1 when buf is too small. */
int cli_net_cmdline(const struct cli_net *n, char *buf, size_t len);

#endif

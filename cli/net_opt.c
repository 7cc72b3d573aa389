/* net_opt.c - --net, --publish and the guest's address (see net_opt.h). */
#include "cli/net_opt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/net.h"

static int net_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int net_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool ipv4_ok(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

/* "A.B.C.D/N" with N in 1..32. */
static bool cidr_ok(const char *s)
{
	char addr[16];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	const char *d = slash + 1;
	if (strspn(d, "0123456789") != strlen(d) || !*d || strlen(d) > 2)
		return false;
	int p = atoi(d);
	return ipv4_ok(addr) && p >= 1 && p <= 32;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return (mac[0] & 1) ? -1 : 0;   /* a multicast address cannot be a NIC's */
}

static int copy_field(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	strcpy(dst, v);
	return 0;
}

/* One "key=value" item after the mode. */
static int net_item(char *item, struct cli_net *o, char *err, size_t errlen)
{
	char *eq = strchr(item, '=');
	if (!eq)
		return net_fail(err, errlen, "bad --net item '%s': expected KEY=VALUE", item);
	*eq = '\0';
	const char *k = item, *v = eq + 1;
	if (strcmp(k, "mac") == 0) {
		if (parse_mac(v, o->net.mac))
			return net_fail(err, errlen, "bad --net mac '%s': expected a unicast "
				    "XX:XX:XX:XX:XX:XX", v);
	} else if (strcmp(k, "ip") == 0) {
		if ((strcmp(v, "dhcp") && !cidr_ok(v)) || copy_field(o->ip, sizeof(o->ip), v))
			return net_fail(err, errlen, "bad --net ip '%s': expected ADDR/PREFIX or dhcp", v);
	} else if (strcmp(k, "gw") == 0 || strcmp(k, "dns") == 0) {
		char *dst = k[0] == 'g' ? o->gw : o->dns;
		if (!ipv4_ok(v) || copy_field(dst, sizeof(o->gw), v))
			return net_fail(err, errlen, "bad --net %s '%s': expected an IPv4 address", k, v);
	} else {
		return net_fail(err, errlen, "bad --net: unknown item '%s' (known: mac, ip, gw, dns)", k);
	}
	return 0;
}

static void user_defaults(struct cli_net *o)
{
	snprintf(o->ip, sizeof(o->ip), "%s/24", VNET_SLIRP_GUEST);
	snprintf(o->gw, sizeof(o->gw), "%s", VNET_SLIRP_HOST);
	snprintf(o->dns, sizeof(o->dns), "%s", VNET_SLIRP_DNS);
}

int cli_parse_net(const char *spec, struct cli_net *o, char *err, size_t errlen)
{
	char *s = strdup(spec ? spec : "");
	if (!s)
		return net_fail(err, errlen, "out of memory");
	char *save, *mode = strtok_r(s, ",", &save);
	int rc = 0;
	o->enabled = true;
	o->ip[0] = o->gw[0] = o->dns[0] = '\0';
	memset(o->net.mac, 0, sizeof(o->net.mac));
	if (!mode || strcmp(mode, "user") == 0) {
		o->net.mode = ARCVM_NET_USER;
		user_defaults(o);
	} else if (strncmp(mode, "tap=", 4) == 0 && mode[4] && strlen(mode + 4) < sizeof(o->tap)) {
		o->net.mode = ARCVM_NET_TAP;
		strcpy(o->tap, mode + 4);
	} else {
		rc = net_fail(err, errlen, "bad --net '%s': expected user or tap=NAME (at most 15 "
			  "bytes), then ,mac=,ip=,gw=,dns=", spec);
	}
	for (char *item = mode ? strtok_r(NULL, ",", &save) : NULL; !rc && item;
	     item = strtok_r(NULL, ",", &save))
		rc = net_item(item, o, err, errlen);
	free(s);
	return rc;
}

bool cli_net_word(const char *w)
{
	return strcmp(w, "user") == 0 || strncmp(w, "user,", 5) == 0 || strncmp(w, "tap=", 4) == 0;
}

/* A port number 1..65535 from the whole string [s, end). */
static int parse_port(const char *s, const char *end, uint16_t *out)
{
	char buf[8];
	if (end <= s || (size_t)(end - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	if (strspn(buf, "0123456789") != strlen(buf))
		return -1;   /* strtol would take signs and spaces */
	char *e;
	errno = 0;
	long v = strtol(buf, &e, 10);
	if (errno || *e || e == buf || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int cli_parse_publish(const char *spec, struct cli_net *o, char *err, size_t errlen)
{
	struct arcvm_port_forward f = { .host_addr = 0x7f000001u };
	char buf[64];
	if (strlen(spec) >= sizeof(buf))
		return net_fail(err, errlen, "bad --publish '%.64s...': too long", spec);
	strcpy(buf, spec);
	char *proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") && strcmp(proto, "tcp"))
			return net_fail(err, errlen, "bad --publish '%s': the protocol is tcp or udp", spec);
		f.udp = proto[0] == 'u';
	}
	char *last = strrchr(buf, ':');
	if (!last)
		return net_fail(err, errlen, "bad --publish '%s': expected "
			    "[HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]", spec);
	*last = '\0';
	char *hp = strrchr(buf, ':');
	if (hp) {
		*hp++ = '\0';
		struct in_addr a;
		if (inet_pton(AF_INET, buf, &a) != 1)
			return net_fail(err, errlen, "bad --publish '%s': '%s' is not an IPv4 address",
				    spec, buf);
		f.host_addr = ntohl(a.s_addr);
	} else {
		hp = buf;
	}
	if (parse_port(hp, hp + strlen(hp), &f.host_port) ||
	    parse_port(last + 1, last + 1 + strlen(last + 1), &f.guest_port))
		return net_fail(err, errlen, "bad --publish '%s': ports are whole numbers 1 to 65535", spec);
	if (o->net.nforwards == ARCVM_MAX_FORWARDS)
		return net_fail(err, errlen, "too many --publish (at most %d)", ARCVM_MAX_FORWARDS);
	if (!o->enabled) {
		o->enabled = true;
		o->net.mode = ARCVM_NET_USER;
		user_defaults(o);
	}
	o->net.forwards[o->net.nforwards++] = f;
	return 0;
}

int cli_net_apply(struct cli_net *n, struct arcvm_config *cfg, char *err, size_t errlen)
{
	if (!n->enabled)
		return 0;
	if (n->net.mode == ARCVM_NET_TAP && n->net.nforwards)
		return net_fail(err, errlen, "--publish needs user-mode networking (--net user), not TAP");
	n->net.tap_name = n->net.mode == ARCVM_NET_TAP ? n->tap : NULL;
	cfg->nets[0] = n->net;
	cfg->nnets = 1;
	return 0;
}

int cli_net_cmdline(const struct cli_net *n, char *buf, size_t len)
{
	int k;
	if (!n->enabled)
		k = snprintf(buf, len, "%s", "");
	else if (strcmp(n->ip, "dhcp") == 0)
		k = snprintf(buf, len, " arcvm.net=dhcp");
	else if (!n->ip[0])
		k = snprintf(buf, len, " arcvm.net=up");
	else
		k = snprintf(buf, len, " arcvm.net=%s,%s,%s", n->ip, n->gw, n->dns);
	return k < 0 || (size_t)k >= len ? -1 : k;
}

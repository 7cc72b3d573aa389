/*
 * fuzz_p9.c - the 9P2000.L server on a hostile guest's byte stream. The
 * input is a sequence of messages (each starts with its own size field),
 * sent after a valid Tversion and Tattach so walks, opens and reads on real
 * files are reachable. The share is read-only, so fuzzing writes nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "p9/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t tversion[] = {
	21, 0, 0, 0, 100, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00,   /* msize 65536 */
	8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L',
};
static const uint8_t tattach[] = {
	23, 0, 0, 0, 104, 1, 0, 1, 0, 0, 0,                     /* fid 1 */
	0xff, 0xff, 0xff, 0xff, 1, 0, 'u', 0, 0, 0, 0, 0, 0,     /* afid NOFID, "u", "", uid 0 */
};

static struct p9_server *make_server(void)
{
	static char dir[] = "/tmp/arcvm-fuzz-p9-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	char path[128];
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("some bytes\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/link", dir);
	if (symlink("/etc/passwd", path) != 0) {
		/* only a seed; fuzzing goes on without it */
	}
	struct p9_server *s;
	if (p9_server_create(dir, true, 64, &s, NULL))
		abort();
	return s;
}

static void send_msg(struct p9_server *s, const uint8_t *msg, size_t len)
{
	static uint8_t reply[65536 + 64];
	struct iovec req = { .iov_base = (void *)msg, .iov_len = len };
	struct iovec rep = { .iov_base = reply, .iov_len = sizeof(reply) };
	p9_server_handle(s, &req, 1, &rep, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p9_server *s;
	if (!s)
		s = make_server();
	p9_server_reset(s);
	send_msg(s, tversion, sizeof(tversion));
	send_msg(s, tattach, sizeof(tattach));
	while (size >= 7) {
		uint32_t len;
		memcpy(&len, data, 4);
		if (len < 7 || len > size)
			len = (uint32_t)size;   /* a lying size field: send the rest as it is */
		send_msg(s, data, len);
		data += len;
		size -= len;
	}
	return 0;
}

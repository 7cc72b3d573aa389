/*
 * fuzz_snapshot.c - a hostile snapshot state file. The input goes once
 * through the header checks as it is, then (wrapped in a header with a
 * correct CRC, so the fuzzer reaches past the checksum) through every loader
 * that needs no /dev/kvm: the config section, the UART, the i8042, the virtio-mmio
 * transport with a virtio-console and with a virtio-rng on fake guest
 * memory, and a 9P session on a scratch share. Loaders must refuse, never
 * read outside the input or leave a queue pointing outside guest memory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "devices/i8042.h"
#include "devices/uart.h"
#include "p9/server.h"
#include "util/snapbuf.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "vmm/snapshot.h"

#define RAM_SIZE (1u << 20)
#define BASE 0xd0000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The payload with a valid header in front (docs/snapshot.md). */
static uint8_t *wrap(const uint8_t *data, size_t size, size_t *len)
{
	uint8_t *b = malloc(SNAP_HEADER_LEN + size + 1);
	memcpy(b, SNAP_MAGIC, 8);
	put_le(b + 8, SNAP_VERSION, 4);
	put_le(b + 12, SNAP_HEADER_LEN, 4);
	put_le(b + 16, size, 8);
	put_le(b + 24, crc32(crc32(0, Z_NULL, 0), data, (uInt)size), 4);
	put_le(b + 28, 0, 4);
	memcpy(b + SNAP_HEADER_LEN, data, size);
	*len = SNAP_HEADER_LEN + size;
	return b;
}

/* Loads r into a fresh transport holding dev on fake memory. */
static void load_virtio(struct virtio_dev *dev, struct snap_reader r)
{
	static uint8_t ram[RAM_SIZE];
	struct guest_mem mem = { 0 };
	struct bus bus = { 0 };
	mem_add_region(&mem, 0, ram, sizeof(ram), true, NULL);
	struct virtio_mmio_env env = { .mem = &mem, .mmio_bus = &bus };
	struct virtio_mmio *t;
	if (virtio_mmio_attach(&env, dev, BASE, 5, &t, NULL)) {
		dev->ops->destroy(dev);
		return;
	}
	virtio_mmio_load(t, &r, NULL);
	virtio_mmio_poll(t);   /* run whatever queues the load made ready */
	virtio_mmio_detach(t);
}

static struct p9_server *share(void)
{
	static struct p9_server *s;
	if (!s) {
		char dir[] = "/tmp/arcvm-fuzz-snap-XXXXXX";
		if (!mkdtemp(dir) || p9_server_create(dir, true, 64, &s, NULL))
			abort();
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_reader r;
	snap_open(data, size, &r, NULL);

	size_t len;
	uint8_t *file = wrap(data, size, &len);
	if (snap_open(file, len, &r, NULL))
		abort();   /* a well-formed header must open */
	struct arcvm_config cfg;
	struct snap_strings st = { 0 };
	struct snap_reader c = r;
	snap_config_load(&c, &cfg, &st, NULL);
	snap_strings_free(&st);

	struct uart_config ucfg = { .in_fd = -1, .out_fd = -1 };
	struct uart *u;
	if (uart_create(&ucfg, &u, NULL) == 0) {
		c = r;
		uart_load(u, &c, NULL);
		uart_destroy(u);
	}
	struct i8042_config kcfg = { 0 };
	struct i8042 *k;
	if (i8042_create(&kcfg, &k, NULL) == 0) {
		c = r;
		i8042_load(k, &c, NULL);
		i8042_destroy(k);
	}
	struct virtio_dev *dev;
	if (vcon_create(-1, -1, &dev, NULL) == 0)
		load_virtio(dev, r);
	if (vrng_create(&dev, NULL) == 0)
		load_virtio(dev, r);
	c = r;
	p9_server_load(share(), &c, NULL);
	free(file);
	return 0;
}

/*
 * fuzz_virtq.c - a hostile driver: the fuzz input is the whole guest memory
 * holding a virtqueue (descriptors, rings, indirect tables). Every chain the
 * device accepts must lie inside guest memory; ASan checks the copies.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio/virtq.h"

#define GUEST_SIZE 0x4000
#define QSIZE 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t guest[GUEST_SIZE];
	memset(guest, 0, sizeof(guest));
	memcpy(guest, data, size < sizeof(guest) ? size : sizeof(guest));
	struct guest_mem mem = { 0 };
	mem_add_region(&mem, 0, guest, sizeof(guest), true, NULL);
	struct virtq q;
	memset(&q, 0, sizeof(q));
	uint64_t features = (1ull << 28) | (1ull << 29);   /* indirect, event idx */
	if (virtq_enable(&q, &mem, QSIZE, QSIZE, 0x0, 0x1000, 0x2000, features, NULL))
		return 0;
	struct virtq_chain c;
	uint8_t sink[64];
	for (int i = 0; i < 4 * QSIZE && virtq_pop(&q, &c) == 1; i++) {
		virtq_chain_read(&c, 0, sink, sizeof(sink) < c.read_len ? sizeof(sink) : c.read_len);
		if (c.write_len)
			virtq_chain_write(&c, 0, sink, c.write_len < sizeof(sink) ? c.write_len : 1);
		virtq_push(&q, c.head, (uint32_t)(c.write_len ? 1 : 0));
		virtq_needs_interrupt(&q);
	}
	return 0;
}

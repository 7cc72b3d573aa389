/*
 * test_virtio_net.c - virtio-net against a hostile driver: frame validation
 * (vnet_tx_check), the transmit path dropping and counting bad frames, the
 * receive path filling one or several (MRG_RXBUF) chains and giving chains
 * back untouched when they cannot hold a frame, and the user-mode backend
 * end to end (an ARP request to the gateway is answered through slirp).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/virtio_net.h>

#include "virtio/net.h"
#include "virtio_fake_driver.h"

#define RXQ 0
#define TXQ 1

static const uint64_t BASE_FEATURES = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC);

struct fixture {
	struct fd_driver f;
	struct vnet *n;
};

static struct fixture *start(uint64_t features)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct virtio_dev *dev;
	struct arcvm_net cfg = { .mode = ARCVM_NET_USER };
	struct arcvm_error err;
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), 0);
	x->n = (struct vnet *)dev;
	assert_int_equal(fd_attach(&x->f, dev, NULL, &err), 0);
	assert_true(fd_bring_up(&x->f, features, 2) & VIRTIO_CONFIG_S_DRIVER_OK);
	return x;
}

static void stop(struct fixture *x)
{
	fd_detach(&x->f);
	free(x);
}

/* --- vnet_tx_check --- */

static void test_check_sizes(void **state)
{
	struct vnet_hdr h = { 0 };
	assert_int_equal(vnet_tx_check(&h, 0, false), VNET_TX_UNDERSIZE);
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + 13, false), VNET_TX_UNDERSIZE);
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + 14, false), VNET_TX_OK);
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + VNET_FRAME_MAX, false), VNET_TX_OK);
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + VNET_FRAME_MAX + 1, false),
			 VNET_TX_OVERSIZE);
	/* With offloads a frame without GSO is still bounded by the MTU... */
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + 9000, true), VNET_TX_OVERSIZE);
	/* ... and a GSO one by the largest super-frame. */
	h = (struct vnet_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			       .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
			       .csum_start = 34, .csum_offset = 16 };
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + 65000, true), VNET_TX_OK);
	assert_int_equal(vnet_tx_check(&h, VNET_HDR_LEN + VNET_GSO_FRAME_MAX + 1, true),
			 VNET_TX_OVERSIZE);
	assert_int_equal(vnet_tx_check(&h, UINT64_MAX, true), VNET_TX_OVERSIZE);
}

static void test_check_headers(void **state)
{
	uint64_t len = VNET_HDR_LEN + 100;
	struct vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
			      .csum_offset = 6 };
	/* Checksum offload only when negotiated. */
	assert_int_equal(vnet_tx_check(&h, len, false), VNET_TX_BAD_HEADER);
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_OK);
	/* The checksum field must lie inside the frame. */
	h.csum_start = 99;
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	/* Unknown flags, GSO without checksum, size 0, UFO, ECN. */
	h = (struct vnet_hdr){ .flags = 0x80 };
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	h = (struct vnet_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1400 };
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	h = (struct vnet_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			       .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .csum_start = 54 };
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	h.gso_size = 1400;
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_OK);
	assert_int_equal(vnet_tx_check(&h, len, false), VNET_TX_BAD_HEADER);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(vnet_tx_check(&h, len, true), VNET_TX_BAD_HEADER);
}

/* --- the device --- */

static void test_offers_mac_and_mergeable_buffers(void **state)
{
	struct fixture *x = start(BASE_FEATURES);
	uint64_t feat = fd_device_features(&x->f);
	assert_true(feat & (1ull << VIRTIO_NET_F_MAC));
	assert_true(feat & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	/* User mode computes no checksums for the guest: no offloads offered. */
	assert_false(feat & (1ull << VIRTIO_NET_F_CSUM));
	assert_false(feat & (1ull << VIRTIO_NET_F_HOST_TSO4));
	assert_false(feat & (1ull << VIRTIO_NET_F_MQ));
	uint8_t mac[6];
	for (int i = 0; i < 6; i++) {
		uint8_t b = 0;
		bus_dispatch(&x->f.bus, FD_BASE + 0x100 + i, false, &b, 1);
		mac[i] = b;
	}
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	assert_memory_equal(mac, want, 6);
	stop(x);
}

/* Posts one readable chain of `len` bytes (header included) on TXQ, kicks,
 * and checks it came back. */
static void transmit(struct fixture *x, const void *data, uint32_t len)
{
	struct fd_seg s = { fd_alloc(&x->f, len ? len : 1), len, false };
	memcpy(fd_host(&x->f, s.gpa), data, len);
	uint16_t head = fd_post(&x->f, TXQ, &s, 1);
	fd_kick(&x->f, TXQ);
	uint32_t id, used_len;
	assert_true(fd_used(&x->f, TXQ, &id, &used_len));
	assert_int_equal(id, head);
	assert_int_equal(used_len, 0);
}

static void test_bad_frames_dropped_and_counted(void **state)
{
	struct fixture *x = start(BASE_FEATURES);
	static uint8_t buf[VNET_HDR_LEN + 9000];
	memset(buf, 0, sizeof(buf));
	transmit(x, buf, 5);                                 /* shorter than the header */
	transmit(x, buf, VNET_HDR_LEN + 10);                 /* shorter than Ethernet */
	transmit(x, buf, VNET_HDR_LEN + 9000);               /* a jumbo frame */
	transmit(x, buf, VNET_HDR_LEN + VNET_FRAME_MAX + 1);
	buf[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;                /* not negotiated */
	transmit(x, buf, VNET_HDR_LEN + 60);
	const struct vnet_stats *s = vnet_stats(x->n);
	assert_int_equal(s->tx_undersize, 2);
	assert_int_equal(s->tx_oversize, 2);
	assert_int_equal(s->tx_bad_header, 1);
	assert_int_equal(s->tx_frames, 0);
	/* The queue still works: nothing a frame says breaks it. */
	assert_false(x->f.t == NULL);
	assert_false(virtio_mmio_status(x->f.t) & VIRTIO_CONFIG_S_NEEDS_RESET);
	stop(x);
}

static uint8_t frame[3000];

static void fill_frame(size_t len)
{
	for (size_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 7 + 3);
}

static void test_rx_waits_without_buffers(void **state)
{
	struct fixture *x = start(BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF));
	fill_frame(100);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 100), 0);
	/* Two chains that cannot hold the frame together: taken, given back. */
	struct fd_seg a = { fd_alloc(&x->f, 40), 40, true };
	struct fd_seg b = { fd_alloc(&x->f, 40), 40, true };
	uint16_t ha = fd_post(&x->f, RXQ, &a, 1);
	fd_post(&x->f, RXQ, &b, 1);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 100), 0);
	uint32_t id, len;
	assert_false(fd_used(&x->f, RXQ, &id, &len));
	/* One more chain: the frame now spans all three, from the first. */
	struct fd_seg c = { fd_alloc(&x->f, 64), 64, true };
	fd_post(&x->f, RXQ, &c, 1);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 100), 1);
	assert_true(fd_used(&x->f, RXQ, &id, &len));
	assert_int_equal(id, ha);
	assert_int_equal(len, 40);
	struct vnet_hdr *h = fd_host(&x->f, a.gpa);
	assert_int_equal(h->num_buffers, 3);
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->gso_type, 0);
	assert_memory_equal((uint8_t *)fd_host(&x->f, a.gpa) + VNET_HDR_LEN, frame, 28);
	assert_memory_equal(fd_host(&x->f, b.gpa), frame + 28, 40);
	assert_true(fd_used(&x->f, RXQ, &id, &len));
	assert_int_equal(len, 40);
	assert_true(fd_used(&x->f, RXQ, &id, &len));
	assert_int_equal(len, VNET_HDR_LEN + 100 - 80);
	assert_memory_equal(fd_host(&x->f, c.gpa), frame + 68, 32);
	assert_int_equal(vnet_stats(x->n)->rx_frames, 1);
	stop(x);
}

/* With EVENT_IDX: chains given back must leave avail_event asking for the
 * driver's next buffer, or the driver would add one without kicking and the
 * held frame would wait forever. */
static void test_rx_given_back_still_asks_for_a_kick(void **state)
{
	struct fixture *x = start(BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
				  (1ull << VIRTQ_F_EVENT_IDX));
	fill_frame(500);
	struct fd_seg a = { fd_alloc(&x->f, 100), 100, true };
	fd_post(&x->f, RXQ, &a, 1);
	fd_post(&x->f, RXQ, &a, 1);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 500), 0);
	uint16_t *avail_event = (uint16_t *)((uint8_t *)fd_host(&x->f, x->f.q[RXQ].used) + 4 +
					     8 * FD_QSIZE);
	assert_int_equal(*avail_event, x->f.q[RXQ].avail_idx);
	stop(x);
}

static void test_rx_without_mergeable_needs_one_chain(void **state)
{
	struct fixture *x = start(BASE_FEATURES);
	fill_frame(1514);
	/* Too small for the frame: dropped, the chain stays with the guest. */
	struct fd_seg small = { fd_alloc(&x->f, 200), 200, true };
	fd_post(&x->f, RXQ, &small, 1);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 1514), -1);
	assert_int_equal(vnet_stats(x->n)->rx_dropped, 1);
	uint32_t id, len;
	assert_false(fd_used(&x->f, RXQ, &id, &len));
	/* A small frame fits it; exactly its bytes are written and reported. */
	memset(fd_host(&x->f, small.gpa), 0xee, 200);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 60), 1);
	assert_true(fd_used(&x->f, RXQ, &id, &len));
	assert_int_equal(len, VNET_HDR_LEN + 60);
	uint8_t *p = fd_host(&x->f, small.gpa);
	assert_int_equal(((struct vnet_hdr *)p)->num_buffers, 1);
	assert_memory_equal(p + VNET_HDR_LEN, frame, 60);
	assert_int_equal(p[VNET_HDR_LEN + 60], 0xee);
	stop(x);
}

static void test_rx_chain_without_room_for_header(void **state)
{
	struct fixture *x = start(BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF));
	fill_frame(60);
	/* A readable-only chain and a 4-byte one: neither can take a header. */
	struct fd_seg ro = { fd_alloc(&x->f, 100), 100, false };
	fd_post(&x->f, RXQ, &ro, 1);
	assert_int_equal(vnet_rx_deliver(x->n, 0, NULL, frame, 60), -1);
	assert_int_equal(vnet_stats(x->n)->rx_dropped, 1);
	stop(x);
}

/* An ARP request for the gateway goes through slirp, whose reply comes
 * back as a received frame. */
static void test_slirp_answers_arp(void **state)
{
	struct fixture *x = start(BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF));
	struct fd_seg rx = { fd_alloc(&x->f, 2048), 2048, true };
	fd_post(&x->f, RXQ, &rx, 1);
	fd_kick(&x->f, RXQ);
	static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint8_t pkt[VNET_HDR_LEN + 42] = { 0 };
	uint8_t *e = pkt + VNET_HDR_LEN;
	memset(e, 0xff, 6);                              /* broadcast */
	memcpy(e + 6, guest_mac, 6);
	e[12] = 0x08, e[13] = 0x06;                      /* ARP */
	uint8_t *a = e + 14;
	a[1] = 1, a[2] = 0x08, a[4] = 6, a[5] = 4, a[7] = 1;   /* Ethernet/IPv4 request */
	memcpy(a + 8, guest_mac, 6);
	memcpy(a + 14, (uint8_t[]){ 10, 0, 2, 15 }, 4);
	memcpy(a + 24, (uint8_t[]){ 10, 0, 2, 2 }, 4);
	transmit(x, pkt, sizeof(pkt));
	assert_int_equal(vnet_stats(x->n)->tx_frames, 1);
	uint32_t id, len;
	assert_true(fd_used(&x->f, RXQ, &id, &len));
	assert_true(len >= VNET_HDR_LEN + 42);
	uint8_t *r = (uint8_t *)fd_host(&x->f, rx.gpa) + VNET_HDR_LEN;
	assert_memory_equal(r, guest_mac, 6);            /* to us */
	assert_int_equal(r[12], 0x08);
	assert_int_equal(r[13], 0x06);
	assert_int_equal(r[14 + 7], 2);                  /* a reply */
	assert_memory_equal(r + 14 + 14, ((uint8_t[]){ 10, 0, 2, 2 }), 4);
	stop(x);
}

static void test_bad_configs_refused(void **state)
{
	struct virtio_dev *dev;
	struct arcvm_error err;
	struct arcvm_net cfg = { .mode = ARCVM_NET_TAP, .tap_name = "" };
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
	cfg.tap_name = "a-name-far-too-long";
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
	cfg = (struct arcvm_net){ .mode = ARCVM_NET_TAP, .tap_name = "t0", .nforwards = 1,
				  .forwards = { { .host_port = 80, .guest_port = 80 } } };
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
	assert_non_null(strstr(err.msg, "user-mode"));
	cfg = (struct arcvm_net){ .mode = ARCVM_NET_USER, .nforwards = 1 };
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
	cfg = (struct arcvm_net){ .mode = ARCVM_NET_USER, .mac = { 0x01 } };
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
	cfg = (struct arcvm_net){ .mode = 7 };
	assert_int_equal(vnet_create(&cfg, 0, 1, NULL, NULL, &dev, &err), ARCVM_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_sizes),
		cmocka_unit_test(test_check_headers),
		cmocka_unit_test(test_offers_mac_and_mergeable_buffers),
		cmocka_unit_test(test_bad_frames_dropped_and_counted),
		cmocka_unit_test(test_rx_waits_without_buffers),
		cmocka_unit_test(test_rx_given_back_still_asks_for_a_kick),
		cmocka_unit_test(test_rx_without_mergeable_needs_one_chain),
		cmocka_unit_test(test_rx_chain_without_room_for_header),
		cmocka_unit_test(test_slirp_answers_arp),
		cmocka_unit_test(test_bad_configs_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

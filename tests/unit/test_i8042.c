/*
 * test_i8042.c - the PS/2 controller and keyboard (devices/i8042.c) driven
 * through its ports as Linux's i8042 and atkbd drivers drive them: probing,
 * the absent mouse port, keyboard commands, an interrupt edge per byte,
 * Ctrl+Alt+Del in both scan code sets, hostile byte streams, snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"

struct fix {
	struct i8042 *k;
	int level, edges;             /* the IRQ 1 line and its rising edges */
	int exits;
	enum arcvm_exit_reason reason;
	struct platform_sink sink;
};

static void on_irq(void *opaque, int level)
{
	struct fix *f = opaque;
	if (level && !f->level)
		f->edges++;
	f->level = level;
}

static void on_exit_req(void *opaque, enum arcvm_exit_reason reason)
{
	struct fix *f = opaque;
	f->exits++;
	f->reason = reason;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	f->sink = (struct platform_sink){ .exit = on_exit_req, .opaque = f };
	struct i8042_config cfg = { .sink = &f->sink, .set_irq = on_irq, .irq_opaque = f };
	assert_int_equal(i8042_create(&cfg, &f->k, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	i8042_destroy(f->k);
	free(f);
	return 0;
}

static uint8_t status(struct fix *f)
{
	uint8_t b;
	i8042_cmd_ops.read(f->k, 0, &b, 1);
	return b;
}

static uint8_t rd(struct fix *f)
{
	uint8_t b;
	i8042_data_ops.read(f->k, 0, &b, 1);
	return b;
}

static void cmd(struct fix *f, uint8_t c)
{
	i8042_cmd_ops.write(f->k, 0, &c, 1);
}

static void wr(struct fix *f, uint8_t b)
{
	i8042_data_ops.write(f->k, 0, &b, 1);
}

/* Reads every queued byte into out; returns how many. */
static int drain(struct fix *f, uint8_t *out, int max)
{
	int n = 0;
	while ((status(f) & 0x01) && n < max)
		out[n++] = rd(f);
	return n;
}

static void test_linux_probe_sequence(void **state)
{
	struct fix *f = *state;
	assert_int_equal(status(f) & 0x01, 0);            /* nothing to flush */
	cmd(f, 0x20);                                    /* read the command byte */
	assert_int_equal(status(f) & 0x09, 0x09);         /* OBF, last write a command */
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(f), 0x25);                    /* KBDINT, SYS, AUXDIS */
	assert_int_equal(f->level, 0);
	cmd(f, 0x60);                                    /* write it: disable the keyboard */
	wr(f, 0x74);                                     /* XLATE|AUXDIS|KBDDIS|SYS */
	cmd(f, 0x20);
	assert_int_equal(f->level, 0);                    /* KBDINT now off */
	assert_int_equal(rd(f), 0x74);
	cmd(f, 0x60);
	wr(f, 0xFF);                                     /* unknown bits are dropped */
	cmd(f, 0x20);
	assert_int_equal(rd(f), 0x77);
	cmd(f, 0xAA);
	assert_int_equal(rd(f), 0x55);                    /* self-test passed */
	cmd(f, 0xAB);
	assert_int_equal(rd(f), 0x00);                    /* keyboard interface fine */
	assert_int_equal(f->exits, 0);
}

static void test_mouse_port_is_reported_absent(void **state)
{
	struct fix *f = *state;
	cmd(f, 0xD3);                                    /* mouse output buffer loop */
	wr(f, 0x5A);
	uint8_t s = status(f);
	assert_int_equal(s & 0x01, 0x01);
	assert_int_equal(s & 0x20, 0);                    /* not flagged as mouse data */
	assert_int_equal(rd(f), 0x5A);
	cmd(f, 0xA9);                                    /* mouse interface test */
	assert_int_equal(rd(f), 0x01);                    /* clock line stuck low */
	cmd(f, 0xD4);                                    /* a byte for the mouse: dropped */
	wr(f, 0xF2);
	assert_int_equal(status(f) & 0x01, 0);
}

static void test_keyboard_commands_and_an_edge_per_byte(void **state)
{
	struct fix *f = *state;
	uint8_t b[16];
	wr(f, 0xF2);                                     /* GET ID */
	assert_int_equal(drain(f, b, 16), 3);
	assert_memory_equal(b, ((uint8_t[]){ 0xFA, 0xAB, 0x83 }), 3);
	assert_int_equal(f->edges, 3);
	wr(f, 0xED);                                     /* LEDs, then their parameter */
	wr(f, 0x00);
	wr(f, 0xF3);                                     /* typematic rate */
	wr(f, 0x20);
	wr(f, 0xF0);                                     /* which scan code set? */
	wr(f, 0x00);
	wr(f, 0xF0);                                     /* set 3: refused */
	wr(f, 0x03);
	wr(f, 0xEE);
	wr(f, 0x12);                                     /* not a command */
	wr(f, 0xFF);                                     /* reset */
	int n = drain(f, b, 16);
	uint8_t want[] = { 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x02, 0xFA, 0xFE, 0xEE, 0xFE,
			   0xFA, 0xAA };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
}

static void test_ctrl_alt_del_in_set_2_and_set_1(void **state)
{
	struct fix *f = *state;
	uint8_t b[16];
	assert_int_equal(i8042_ctrl_alt_del(f->k, NULL), 0);
	uint8_t set2[] = { 0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x11, 0xF0, 0x14 };
	assert_int_equal(drain(f, b, 16), sizeof(set2));
	assert_memory_equal(b, set2, sizeof(set2));
	assert_int_equal(f->edges, (int)sizeof(set2));
	cmd(f, 0x60);
	wr(f, 0x45);                                     /* translation on */
	assert_int_equal(i8042_ctrl_alt_del(f->k, NULL), 0);
	uint8_t set1[] = { 0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D };
	assert_int_equal(drain(f, b, 16), sizeof(set1));
	assert_memory_equal(b, set1, sizeof(set1));
}

static void test_ctrl_alt_del_refused_until_the_keyboard_can_take_it(void **state)
{
	struct fix *f = *state;
	struct arcvm_error err;
	cmd(f, 0xAD);                                    /* keyboard interface disabled */
	assert_int_equal(i8042_ctrl_alt_del(f->k, &err), ARCVM_E_BAD_STATE);
	cmd(f, 0xAE);
	wr(f, 0xF5);                                     /* scanning off */
	rd(f);
	assert_int_equal(i8042_ctrl_alt_del(f->k, &err), ARCVM_E_BAD_STATE);
	wr(f, 0xF4);
	rd(f);
	assert_int_equal(i8042_ctrl_alt_del(f->k, NULL), 0);
	assert_int_equal(i8042_ctrl_alt_del(f->k, &err), ARCVM_E_BUSY);   /* not read yet */
	assert_non_null(strstr(err.msg, "not reading"));
}

static void test_reset_line(void **state)
{
	struct fix *f = *state;
	cmd(f, 0xD1);                                    /* output port, reset bit high */
	wr(f, 0x03);
	assert_int_equal(f->exits, 0);
	cmd(f, 0xD0);
	assert_int_equal(rd(f), 0x03);
	cmd(f, 0xFE);
	assert_int_equal(f->exits, 1);
	assert_int_equal(f->reason, ARCVM_EXIT_REBOOT);
	cmd(f, 0xD1);
	wr(f, 0x02);                                     /* reset bit low */
	assert_int_equal(f->exits, 2);
}

/* Random commands and data, never read: the queue stays bounded, every
 * status read is coherent, nothing but 0xFE and 0xD1 asks for a reset. */
static void test_hostile_byte_streams(void **state)
{
	struct fix *f = *state;
	srand(42);
	for (int i = 0; i < 200000; i++) {
		uint8_t b = (uint8_t)rand();
		int what = rand() % 4;
		if (what == 0)
			cmd(f, b == 0xFE || b == 0xD1 ? 0x20 : b);
		else if (what == 1)
			wr(f, b);
		else if (what == 2)
			rd(f);
		else if (f->level)
			assert_int_equal(status(f) & 0x01, 0x01);    /* no interrupt without data */
	}
	uint8_t b[64];
	assert_true(drain(f, b, 64) <= 16);
	assert_int_equal(f->level, 0);
}

static void test_snapshot_round_trip_and_refusals(void **state)
{
	struct fix *f = *state;
	wr(f, 0xF2);
	cmd(f, 0x60);                                    /* left waiting for its data byte */
	struct snap_writer w;
	snap_writer_init(&w);
	i8042_save(f->k, &w);

	struct fix g = { 0 };
	g.sink = (struct platform_sink){ .exit = on_exit_req, .opaque = &g };
	struct i8042_config cfg = { .sink = &g.sink, .set_irq = on_irq, .irq_opaque = &g };
	struct i8042 *k2;
	assert_int_equal(i8042_create(&cfg, &k2, NULL), 0);
	struct snap_reader r = { .p = w.buf + SNAP_HEADER_LEN, .len = w.len - SNAP_HEADER_LEN };
	struct arcvm_error err;
	if (i8042_load(k2, &r, &err))
		fail_msg("i8042_load: %s", err.msg);
	struct fix h = g;
	h.k = k2;
	wr(&h, 0x65);                                    /* the pending WRITE_CTR takes it */
	uint8_t b[8];
	assert_int_equal(drain(&h, b, 8), 3);
	assert_memory_equal(b, ((uint8_t[]){ 0xFA, 0xAB, 0x83 }), 3);
	cmd(&h, 0x20);
	assert_int_equal(rd(&h), 0x65);

	/* A queue longer than the buffer, or an unknown pending command. */
	for (int bad = 0; bad < 2; bad++) {
		uint8_t *body = w.buf + SNAP_HEADER_LEN + 8;
		uint8_t save[16];
		memcpy(save, body, 16);
		if (bad == 0)
			body[9] = 17;                            /* queue length u32, low byte */
		else
			body[2] = 0x42;                          /* ctl_pending */
		r = (struct snap_reader){ .p = w.buf + SNAP_HEADER_LEN, .len = w.len - SNAP_HEADER_LEN };
		assert_int_equal(i8042_load(k2, &r, &err), ARCVM_E_FORMAT);
		memcpy(body, save, 16);
	}
	snap_writer_free(&w);
	i8042_destroy(k2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_linux_probe_sequence),
		T(test_mouse_port_is_reported_absent),
		T(test_keyboard_commands_and_an_edge_per_byte),
		T(test_ctrl_alt_del_in_set_2_and_set_1),
		T(test_ctrl_alt_del_refused_until_the_keyboard_can_take_it),
		T(test_reset_line),
		T(test_hostile_byte_streams),
		T(test_snapshot_round_trip_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * i8042.c - the PS/2 controller and its keyboard. The mouse port is absent:
 * the "write mouse output buffer" loop answers without the mouse flag and
 * the mouse interface test reports a fault, so Linux gives up on it at once
 * instead of polling for bytes that never come.
 *
 * The keyboard speaks scan code set 2; with the controller's translation
 * bit set (the command byte's bit 6) the controller hands out set 1 codes,
 * as real ones do. Every byte the guest writes is checked against the
 * commands below; anything else is ignored (controller) or answered with
 * 0xFE "resend" (keyboard). Output is a bounded queue: replies that do not
 * fit are dropped, so a guest that never reads cannot grow anything.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "util/err.h"

#define QUEUE 16

/* Status register (port 0x64 read). */
#define STS_OBF      0x01   /* a byte waits in the output buffer */
#define STS_SYS      0x04   /* mirrors the command byte's system flag */
#define STS_CMD      0x08   /* the last write was to the command port */
#define STS_UNLOCKED 0x10   /* keyboard not inhibited */

/* Command byte ("CTR" in Linux). */
#define CTR_KBDINT 0x01
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40
#define CTR_KNOWN  0x77

/* Controller commands. */
#define CMD_READ_CTR   0x20
#define CMD_WRITE_CTR  0x60
#define CMD_AUX_DIS    0xA7
#define CMD_AUX_EN     0xA8
#define CMD_AUX_TEST   0xA9
#define CMD_SELF_TEST  0xAA
#define CMD_KBD_TEST   0xAB
#define CMD_KBD_DIS    0xAD
#define CMD_KBD_EN     0xAE
#define CMD_READ_OUTP  0xD0
#define CMD_WRITE_OUTP 0xD1
#define CMD_KBD_LOOP   0xD2
#define CMD_AUX_LOOP   0xD3
#define CMD_AUX_SEND   0xD4
#define CMD_RESET      0xFE   /* pulse output line 0: the CPU reset */

/* Keyboard commands and answers. */
#define KBD_SET_LEDS  0xED
#define KBD_ECHO      0xEE
#define KBD_SCAN_SET  0xF0
#define KBD_GET_ID    0xF2
#define KBD_TYPEMATIC 0xF3
#define KBD_ENABLE    0xF4
#define KBD_DISABLE   0xF5
#define KBD_DEFAULTS  0xF6
#define KBD_RESEND    0xFE
#define KBD_RESET     0xFF
#define KBD_ACK       0xFA
#define KBD_BAT_OK    0xAA
#define KBD_ID_1      0xAB
#define KBD_ID_2      0x83

#define SELF_TEST_OK  0x55
#define AUX_TEST_CLOCK_LOW 0x01   /* "mouse clock line stuck low": no port */
#define OUTP_DEFAULT  0x03        /* reset line high, A20 on */

struct i8042 {
	pthread_mutex_t lock;
	struct i8042_config cfg;
	uint8_t ctr, outp;
	uint8_t ctl_pending;    /* controller command waiting for its data byte, or 0 */
	bool last_was_cmd;
	uint8_t q[QUEUE];       /* output buffer: q[head] is the byte port 0x60 reads */
	unsigned head, len;
	uint8_t last_read;      /* what port 0x60 reads while the queue is empty */
	bool irq_level;
	/* the keyboard */
	bool scanning;          /* it sends key codes (after F4, reset) */
	uint8_t kbd_pending;    /* command waiting for its parameter, or 0 */
	uint8_t kbd_last;       /* last byte it sent, for RESEND */
};

static void update_irq(struct i8042 *k)
{
	bool level = k->len && (k->ctr & CTR_KBDINT);
	if (level != k->irq_level && k->cfg.set_irq)
		k->cfg.set_irq(k->cfg.irq_opaque, level);
	k->irq_level = level;
}

/* Queues a byte; false (dropped) when the buffer is full. */
static bool push(struct i8042 *k, uint8_t b)
{
	if (k->len == QUEUE)
		return false;
	k->q[(k->head + k->len++) % QUEUE] = b;
	return true;
}

static void kbd_send(struct i8042 *k, uint8_t b)
{
	k->kbd_last = b;
	push(k, b);
}

static void kbd_defaults(struct i8042 *k)
{
	k->kbd_pending = 0;
}

/* A parameter byte for the keyboard command in kbd_pending. */
static void kbd_param(struct i8042 *k, uint8_t b)
{
	uint8_t cmd = k->kbd_pending;
	k->kbd_pending = 0;
	if (cmd == KBD_SCAN_SET && b == 0) {
		kbd_send(k, KBD_ACK);
		kbd_send(k, 2);               /* the set in use */
	} else if (cmd == KBD_SCAN_SET && b != 2) {
		kbd_send(k, KBD_RESEND);      /* only set 2 is offered */
	} else {
		kbd_send(k, KBD_ACK);         /* LEDs, typematic rate, set 2 */
	}
}

/* A byte the guest sends to the keyboard through port 0x60. */
static void kbd_write(struct i8042 *k, uint8_t b)
{
	if (k->kbd_pending) {
		kbd_param(k, b);
		return;
	}
	switch (b) {
	case KBD_SET_LEDS: case KBD_SCAN_SET: case KBD_TYPEMATIC:
		k->kbd_pending = b;
		kbd_send(k, KBD_ACK);
		break;
	case KBD_ECHO:
		kbd_send(k, KBD_ECHO);
		break;
	case KBD_GET_ID:
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_ID_1);
		kbd_send(k, KBD_ID_2);
		break;
	case KBD_ENABLE:
		k->scanning = true;
		kbd_send(k, KBD_ACK);
		break;
	case KBD_DISABLE:
		k->scanning = false;
		kbd_defaults(k);
		kbd_send(k, KBD_ACK);
		break;
	case KBD_DEFAULTS:
		kbd_defaults(k);
		kbd_send(k, KBD_ACK);
		break;
	case KBD_RESEND:
		push(k, k->kbd_last);
		break;
	case KBD_RESET:
		kbd_defaults(k);
		k->scanning = true;
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_BAT_OK);
		break;
	default:
		kbd_send(k, KBD_RESEND);      /* unknown, or set-3-only commands */
		break;
	}
}

/* The data byte of the controller command in ctl_pending. */
static void ctl_param(struct i8042 *k, uint8_t b)
{
	uint8_t cmd = k->ctl_pending;
	k->ctl_pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = b & CTR_KNOWN;
		break;
	case CMD_WRITE_OUTP:
		k->outp = b;
		if (!(b & 1))
			k->cfg.sink->exit(k->cfg.sink->opaque, ARCVM_EXIT_REBOOT);
		break;
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:   /* no mouse port: it comes back as keyboard data */
		push(k, b);
		break;
	default:             /* CMD_AUX_SEND: no mouse to send it to */
		break;
	}
}

static void ctl_command(struct i8042 *k, uint8_t c)
{
	switch (c) {
	case CMD_READ_CTR:
		push(k, k->ctr);
		break;
	case CMD_WRITE_CTR: case CMD_WRITE_OUTP: case CMD_KBD_LOOP: case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->ctl_pending = c;
		break;
	case CMD_AUX_TEST:
		push(k, AUX_TEST_CLOCK_LOW);
		break;
	case CMD_SELF_TEST:
		push(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		push(k, 0);
		break;
	case CMD_KBD_DIS:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_EN:
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		push(k, k->outp);
		break;
	case CMD_RESET:
		k->cfg.sink->exit(k->cfg.sink->opaque, ARCVM_EXIT_REBOOT);
		break;
	default:             /* CMD_AUX_DIS/EN (no port), the rest: ignored */
		break;
	}
}

static void data_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct i8042 *k = opaque;
	pthread_mutex_lock(&k->lock);
	if (k->len) {
		k->last_read = k->q[k->head];
		k->head = (k->head + 1) % QUEUE;
		k->len--;
		/* An edge per byte: the ISA line is edge-triggered, and Linux
		 * reads one byte per interrupt. */
		if (k->irq_level && k->cfg.set_irq)
			k->cfg.set_irq(k->cfg.irq_opaque, 0);
		k->irq_level = false;
	}
	memset(data, 0, len);
	((uint8_t *)data)[0] = k->last_read;
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void data_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t b = ((const uint8_t *)data)[0];
	pthread_mutex_lock(&k->lock);
	k->last_was_cmd = false;
	if (k->ctl_pending)
		ctl_param(k, b);
	else
		kbd_write(k, b);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void status_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct i8042 *k = opaque;
	pthread_mutex_lock(&k->lock);
	uint8_t s = STS_UNLOCKED | (k->len ? STS_OBF : 0) | (k->ctr & CTR_SYS ? STS_SYS : 0) |
		    (k->last_was_cmd ? STS_CMD : 0);
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	((uint8_t *)data)[0] = s;
}

static void cmd_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = opaque;
	pthread_mutex_lock(&k->lock);
	k->last_was_cmd = true;
	k->ctl_pending = 0;   /* a new command abandons one waiting for data */
	ctl_command(k, ((const uint8_t *)data)[0]);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

const struct bus_ops i8042_data_ops = { .read = data_read, .write = data_write };
const struct bus_ops i8042_cmd_ops = { .read = status_read, .write = cmd_write };

/* Set 2 make codes, and set 1 as the controller translates them. */
static const uint8_t cad_set2[] = { 0x14, 0x11, 0xE0, 0x71,           /* Ctrl, Alt, Del down */
				    0xE0, 0xF0, 0x71, 0xF0, 0x11, 0xF0, 0x14 };  /* up */
static const uint8_t cad_set1[] = { 0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D };

int i8042_ctrl_alt_del(struct i8042 *k, struct arcvm_error *err)
{
	pthread_mutex_lock(&k->lock);
	int rc = 0;
	bool xlate = k->ctr & CTR_XLATE;
	const uint8_t *codes = xlate ? cad_set1 : cad_set2;
	unsigned n = xlate ? sizeof(cad_set1) : sizeof(cad_set2);
	if (!k->scanning || (k->ctr & CTR_KBDDIS) || !(k->ctr & CTR_KBDINT))
		rc = err_set(err, ARCVM_E_BAD_STATE, "the guest has not enabled its keyboard (no "
			     "i8042/atkbd driver bound, or it disabled the keyboard)");
	else if (QUEUE - k->len < n)
		rc = err_set(err, ARCVM_E_BUSY, "the keyboard's output buffer is full: the guest is "
			     "not reading it");
	for (unsigned i = 0; !rc && i < n; i++)
		push(k, codes[i]);
	if (!rc)
		update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int i8042_create(const struct i8042_config *cfg, struct i8042 **out, struct arcvm_error *err)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return err_set(err, ARCVM_E_NOMEM, "i8042: out of memory");
	pthread_mutex_init(&k->lock, NULL);
	k->cfg = *cfg;
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS;
	k->outp = OUTP_DEFAULT;
	k->scanning = true;
	*out = k;
	return 0;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* ---- snapshots ---- */

#define TAG_KBDC SNAP_TAG('K', 'B', 'D', 'C')

void i8042_save(struct i8042 *k, struct snap_writer *w)
{
	pthread_mutex_lock(&k->lock);
	snap_begin(w, TAG_KBDC);
	snap_put_u8(w, k->ctr);
	snap_put_u8(w, k->outp);
	snap_put_u8(w, k->ctl_pending);
	snap_put_u8(w, k->last_was_cmd);
	snap_put_u8(w, k->last_read);
	snap_put_u8(w, k->scanning);
	snap_put_u8(w, k->kbd_pending);
	snap_put_u8(w, k->kbd_last);
	snap_put_u8(w, k->irq_level);
	snap_put_u32(w, k->len);
	for (unsigned i = 0; i < k->len; i++)
		snap_put_u8(w, k->q[(k->head + i) % QUEUE]);
	snap_end_section(w);
	pthread_mutex_unlock(&k->lock);
}

static bool ctl_pending_valid(uint8_t c)
{
	return c == 0 || c == CMD_WRITE_CTR || c == CMD_WRITE_OUTP || c == CMD_KBD_LOOP ||
	       c == CMD_AUX_LOOP || c == CMD_AUX_SEND;
}

static bool kbd_pending_valid(uint8_t c)
{
	return c == 0 || c == KBD_SET_LEDS || c == KBD_SCAN_SET || c == KBD_TYPEMATIC;
}

int i8042_load(struct i8042 *k, struct snap_reader *r, struct arcvm_error *err)
{
	struct snap_reader s;
	int rc = snap_section(r, TAG_KBDC, "i8042", &s, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&k->lock);
	k->ctr = snap_get_u8(&s);
	k->outp = snap_get_u8(&s);
	k->ctl_pending = snap_get_u8(&s);
	k->last_was_cmd = snap_get_bool(&s);
	k->last_read = snap_get_u8(&s);
	k->scanning = snap_get_bool(&s);
	k->kbd_pending = snap_get_u8(&s);
	k->kbd_last = snap_get_u8(&s);
	/* The line as the saved irqchip state has it: set again below only
	 * when it changes. */
	k->irq_level = snap_get_bool(&s);
	uint32_t n = snap_get_u32(&s);
	if ((k->ctr & ~CTR_KNOWN) || !ctl_pending_valid(k->ctl_pending) ||
	    !kbd_pending_valid(k->kbd_pending) || n > QUEUE)
		snap_reject(&s);
	k->head = 0;
	k->len = 0;
	for (uint32_t i = 0; i < n && i < QUEUE; i++)
		k->q[k->len++] = snap_get_u8(&s);
	rc = snap_done(&s, "i8042", err);
	if (!rc)
		update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

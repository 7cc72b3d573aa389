/* uart.c - 16550A UART emulation (see uart.h). */
#include "devices/uart.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/err.h"
#include "util/snapbuf.h"

enum {
	REG_DATA = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI     0x01   /* receive data available interrupt */
#define IER_THRI    0x02   /* transmit holding register empty interrupt */
#define IIR_NONE    0x01
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_FIFO    0xC0   /* FIFOs enabled */
#define FCR_ENABLE  0x01
#define FCR_CLR_RX  0x02
#define LCR_DLAB    0x80
#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define LSR_DR      0x01
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80

#define RX_SIZE 4096

struct uart {
	struct uart_config cfg;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;        /* THR-empty interrupt not yet acknowledged */
	bool input_watched;       /* in_fd is polled: the guest listens and the FIFO has room */
	bool input_open;          /* in_fd has not reached EOF */
	uint8_t rx[RX_SIZE];      /* ring of received bytes */
	unsigned rx_head, rx_count;
	int irq_level;
};

/*
 * Received bytes are shown to the guest (LSR.DR, the data register, a FIFO
 * clear) only while it has receive interrupts enabled; otherwise they are
 * still the host's. The 8250 driver's probe sets IER to 0x0F for an instant
 * to see whether the chip exists: input the I/O thread took in then used to
 * sit in the FIFO until the port was opened, whose FIFO clear threw it away
 * (a script piped into `arcvm run` was lost about once in 25 boots).
 */
static unsigned rx_visible(const struct uart *u)
{
	return (u->ier & IER_RDI) ? u->rx_count : 0;
}

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if (rx_visible(u))
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Keeps the line level equal to "an interrupt is pending"; lock held. */
static void uart_update_irq(struct uart *u)
{
	int level = (uart_iir(u) & IIR_NONE) ? 0 : 1;
	if (level != u->irq_level && u->cfg.set_irq) {
		u->irq_level = level;
		u->cfg.set_irq(u->cfg.opaque, level);
	}
}

static void rx_push(struct uart *u, const uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n && u->rx_count < RX_SIZE; i++) {
		u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = buf[i];
		u->rx_count++;
	}
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, &byte, 1);
	} else {
		if (u->cfg.out_fd >= 0) {
			ssize_t n;
			do {
				n = write(u->cfg.out_fd, &byte, 1);
			} while (n < 0 && errno == EINTR);
		}
		if (u->cfg.tap)
			u->cfg.tap(u->cfg.opaque, byte);
	}
	/* Transmission is instantaneous: THR is empty again at once. */
	u->thri_pending = true;
}

static uint8_t uart_msr(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t m = 0;
	if (u->mcr & MCR_RTS) m |= MSR_CTS;
	if (u->mcr & MCR_DTR) m |= MSR_DSR;
	if (u->mcr & MCR_OUT1) m |= MSR_RI;
	if (u->mcr & MCR_OUT2) m |= MSR_DCD;
	return m;
}

/*
 * Host input is taken only while the guest has receive interrupts enabled
 * and the FIFO has room. Bytes read earlier would be thrown away by the
 * driver's FIFO reset when it opens the port, so a script piped into the
 * console would lose its first lines. Lock held.
 */
static void uart_update_input(struct uart *u)
{
	bool want = u->input_open && (u->ier & IER_RDI) && u->rx_count < RX_SIZE;
	if (want != u->input_watched) {
		u->input_watched = want;
		io_loop_mod(u->cfg.io, u->cfg.in_fd, want ? EPOLLIN : 0);
	}
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	switch (reg) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!rx_visible(u))
			return 0;
		uint8_t b = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_SIZE;
		u->rx_count--;
		return b;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR: {
		uint8_t iir = uart_iir(u);
		if ((iir & 0x0F) == IIR_THRI)
			u->thri_pending = false;   /* reading IIR acknowledges THRE */
		return iir;
	}
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR: return LSR_THRE | LSR_TEMT | (rx_visible(u) ? LSR_DR : 0);
	case REG_MSR: return uart_msr(u);
	default:      return u->scr;
	}
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			uart_transmit(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thri_pending = true;
		u->ier = v & 0x0F;
		break;
	case REG_IIR_FCR:
		u->fcr = v & 0xC1;
		if ((v & FCR_CLR_RX) && rx_visible(u))
			u->rx_count = 0;
		break;
	case REG_LCR: u->lcr = v; break;
	case REG_MCR: u->mcr = v & 0x1F; break;
	case REG_SCR: u->scr = v; break;
	default: break;  /* LSR and MSR are read-only */
	}
}

static void uart_bus_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	((uint8_t *)data)[0] = uart_read_reg(u, (unsigned)off & 7);
	for (unsigned i = 1; i < len; i++)
		((uint8_t *)data)[i] = 0;
	uart_update_irq(u);
	uart_update_input(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_bus_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, (unsigned)off & 7, ((const uint8_t *)data)[0]);
	uart_update_irq(u);
	uart_update_input(u);
	pthread_mutex_unlock(&u->lock);
}

const struct bus_ops uart_bus_ops = { .read = uart_bus_read, .write = uart_bus_write };

/* I/O thread: host input is ready. */
static void uart_input(void *opaque, uint32_t events)
{
	struct uart *u = opaque;
	uint8_t buf[256];
	/* Only this thread adds bytes, so the room seen here cannot shrink. */
	pthread_mutex_lock(&u->lock);
	unsigned room = RX_SIZE - u->rx_count;
	bool watched = u->input_watched;
	pthread_mutex_unlock(&u->lock);
	if (room == 0 || !watched)
		return;   /* an event from just before the fd was parked */
	ssize_t n = read(u->cfg.in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	pthread_mutex_lock(&u->lock);
	if (n <= 0) {
		u->input_open = false;   /* EOF or error: no more input */
		u->input_watched = false;
		io_loop_del(u->cfg.io, u->cfg.in_fd);
	} else {
		rx_push(u, buf, (unsigned)n);
	}
	uart_update_irq(u);
	uart_update_input(u);
	pthread_mutex_unlock(&u->lock);
}

int uart_create(const struct uart_config *cfg, struct uart **out, struct arcvm_error *err)
{
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the UART");
	u->cfg = *cfg;
	u->mcr = MCR_OUT2;
	u->dll = 12;   /* 9600 baud until the driver programs it */
	pthread_mutex_init(&u->lock, NULL);
	*out = u;
	return 0;
}

int uart_start_input(struct uart *u, struct arcvm_error *err)
{
	if (u->cfg.in_fd < 0 || !u->cfg.io)
		return 0;
	/* Registered parked; uart_update_input starts polling once the guest listens. */
	int rc = io_loop_add(u->cfg.io, u->cfg.in_fd, 0, uart_input, u, err);
	if (rc == 0) {
		pthread_mutex_lock(&u->lock);
		u->input_open = true;
		uart_update_input(u);
		pthread_mutex_unlock(&u->lock);
	}
	return rc;
}

#define TAG_UART SNAP_TAG('U', 'A', 'R', 'T')

void uart_save(struct uart *u, struct snap_writer *w)
{
	pthread_mutex_lock(&u->lock);
	snap_begin(w, TAG_UART);
	snap_put_u8(w, u->ier);
	snap_put_u8(w, u->lcr);
	snap_put_u8(w, u->mcr);
	snap_put_u8(w, u->scr);
	snap_put_u8(w, u->fcr);
	snap_put_u8(w, u->dll);
	snap_put_u8(w, u->dlm);
	snap_put_u8(w, u->thri_pending);
	snap_put_u8(w, (uint8_t)u->irq_level);
	/* The receive FIFO, oldest byte first. */
	snap_put_u32(w, u->rx_count);
	for (unsigned i = 0; i < u->rx_count; i++)
		snap_put_u8(w, u->rx[(u->rx_head + i) % RX_SIZE]);
	snap_end_section(w);
	pthread_mutex_unlock(&u->lock);
}

int uart_load(struct uart *u, struct snap_reader *r, struct arcvm_error *err)
{
	struct snap_reader s;
	int rc = snap_section(r, TAG_UART, "UART", &s, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&u->lock);
	u->ier = snap_get_u8(&s) & 0x0F;
	u->lcr = snap_get_u8(&s);
	u->mcr = snap_get_u8(&s) & 0x1F;
	u->scr = snap_get_u8(&s);
	u->fcr = snap_get_u8(&s) & 0xC1;
	u->dll = snap_get_u8(&s);
	u->dlm = snap_get_u8(&s);
	u->thri_pending = snap_get_bool(&s);
	/* The line's level lives in the restored irqchip; only our copy of it
	 * is set here, so the next change is signalled. */
	u->irq_level = snap_get_bool(&s);
	uint32_t n = snap_get_u32(&s);
	if (n > RX_SIZE) {
		snap_reject(&s);
		n = 0;
	}
	u->rx_head = 0;
	u->rx_count = n;
	for (unsigned i = 0; i < n; i++)
		u->rx[i] = snap_get_u8(&s);
	pthread_mutex_unlock(&u->lock);
	return snap_done(&s, "UART", err);
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

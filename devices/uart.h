/*
 * uart.h - a 16550A-compatible UART (COM1), enough for Linux's 8250 driver:
 * divisor latch, FIFO, IER/IIR interrupts, loopback for the driver's probe.
 *
 * Threads: register access comes from vCPU threads; host input arrives on
 * the I/O thread. One mutex guards all state.
 */
#ifndef DEVICES_UART_H
#define DEVICES_UART_H

#include <stdint.h>

#include "arcvm.h"
#include "io/loop.h"
#include "vmm/bus.h"

struct uart;

struct uart_config {
	int in_fd;     /* host input, read on the I/O thread; -1 for none */
	int out_fd;    /* guest output; -1 to discard */
	struct io_loop *io;
	/* Sets the interrupt line level (called with the UART lock held). */
	void (*set_irq)(void *opaque, int level);
	/* Sees every byte the guest transmits (may be NULL). */
	void (*tap)(void *opaque, uint8_t byte);
	void *opaque;
};

int uart_create(const struct uart_config *cfg, struct uart **out, struct arcvm_error *err);
/* Starts reading in_fd on the I/O loop. */
int uart_start_input(struct uart *u, struct arcvm_error *err);
void uart_destroy(struct uart *u);

/* Snapshot: the registers, the receive FIFO and the interrupt line, as one
 * "UART" section. Load before uart_start_input; values are range-checked. */
struct snap_writer;
struct snap_reader;
void uart_save(struct uart *u, struct snap_writer *w);
int uart_load(struct uart *u, struct snap_reader *r, struct arcvm_error *err);

extern const struct bus_ops uart_bus_ops;
#define UART_PORT_COUNT 8

#endif

/*
 * 8250/16550A UART (COM1 at 0x3f8, IRQ 4): the console. Transmit goes to an
 * output descriptor at once; receive is fed by the event loop from stdin.
 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

#include "device.h"

#include <pthread.h>
#include <stdint.h>

#define SERIAL_RX_SIZE 4096

struct serial {
	pthread_mutex_t lock;
	const struct machine_hooks *hooks;
	uint32_t irq;
	int out_fd;  /* guest output goes here; -1 drops it */
	int wake_fd; /* eventfd written when a full receive buffer drains; or -1 */

	/* Guest-visible registers. */
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	uint8_t thri;	   /* a transmit-empty interrupt is pending */
	uint8_t irq_level; /* what we last drove on the IRQ line */

	/* Receive buffer (a deep FIFO; the guest sees a 16550A). */
	uint8_t rx[SERIAL_RX_SIZE];
	uint32_t rx_head, rx_count;
	uint8_t rx_was_full;

	uint64_t tx_bytes; /* bytes the guest has written, for tests and status */
};

extern const struct device_ops serial_ops;

/* Set up s in its reset state. */
void serial_init(struct serial *s, const struct machine_hooks *hooks, uint32_t irq, int out_fd,
		 int wake_fd);

/* Queue up to n input bytes for the guest; returns how many were taken. */
uint32_t serial_push_input(struct serial *s, const uint8_t *buf, uint32_t n);

/* Free bytes in the receive buffer. */
uint32_t serial_rx_space(struct serial *s);

#endif

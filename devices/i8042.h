/*
 * i8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command):
 * enough for Linux to probe a keyboard, and the 0xfe pulse that reboot=k
 * uses to reset the machine. No mouse.
 */
#ifndef VMM_I8042_H
#define VMM_I8042_H

#include "device.h"

#include <pthread.h>
#include <stdint.h>

#define I8042_QUEUE 16

struct i8042 {
	pthread_mutex_t lock;
	const struct machine_hooks *hooks;
	uint8_t ctr;	     /* controller command byte */
	uint8_t pending_cmd; /* controller command waiting for its data byte, or 0 */
	uint8_t kbd_cmd;     /* keyboard command waiting for its parameter, or 0 */
	uint8_t last_was_cmd;
	uint8_t irq_level;
	uint8_t queue[I8042_QUEUE]; /* output buffer bytes for the guest */
	uint8_t qhead, qcount;
};

extern const struct device_ops i8042_ops;

/* Base port and span covering 0x60..0x64. */
#define I8042_BASE 0x60
#define I8042_SPAN 5

void i8042_init(struct i8042 *k, const struct machine_hooks *hooks);

/* Queue keyboard scancodes (set 1, as the guest sees after translation). */
void i8042_send_scancodes(struct i8042 *k, const uint8_t *codes, int n);

#endif

/*
 * ib700 watchdog (always present): a write to port 0x443 starts or pings it
 * with a period of 30 - 2 * (value & 0xf) seconds, any write to 0x441 stops
 * it, exactly as Linux's ib700wdt driver and QEMU's model use it. The
 * countdown runs on guest time, so a paused or saved VM never expires.
 */
#ifndef VMM_IB700_H
#define VMM_IB700_H

#include "device.h"

#include <pthread.h>
#include <stdint.h>

#define IB700_BASE 0x441
#define IB700_SPAN 4 /* 0x441-0x442 stop, 0x443-0x444 start/ping (as QEMU) */

struct ib700 {
	pthread_mutex_t lock;
	const struct machine_hooks *hooks;
	uint8_t armed;
	uint64_t period_ns;
	uint64_t deadline; /* guest time (ns) of expiry while armed */
};

extern const struct device_ops ib700_ops;

void ib700_init(struct ib700 *w, const struct machine_hooks *hooks);

/* Period in seconds selected by a value written to 0x443. */
static inline uint32_t ib700_period_s(uint8_t v)
{
	return 30u - 2u * (v & 0xfu);
}

/* Guest time of the next expiry, or UINT64_MAX when disarmed. */
uint64_t ib700_next_deadline(struct ib700 *w);

/*
 * At guest time now: if the deadline has passed, disarm (one-shot, as QEMU)
 * and return 1; the caller runs the watchdog action.
 */
int ib700_expire(struct ib700 *w, uint64_t now);

#endif

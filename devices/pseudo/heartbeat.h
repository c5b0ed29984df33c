/*
 * Heartbeat pseudo-device at MMIO 0xd0000000 (4 KiB), invented for vmm and
 * modelled on VirtualBox's VMMDev heartbeat: the host picks the interval, the
 * guest beats, the host notices a flatline. Registers are in DESIGN.md.
 */
#ifndef VMM_HEARTBEAT_H
#define VMM_HEARTBEAT_H

#include "../device.h"

#include <pthread.h>
#include <stdint.h>

#define HEARTBEAT_BASE 0xd0000000ull
#define HEARTBEAT_SIZE 0x1000

struct heartbeat {
	pthread_mutex_t lock;
	const struct machine_hooks *hooks;
	/* Host configuration (not guest state). */
	uint32_t interval_ms, timeout_ms;
	/* Guest-visible state. */
	uint8_t enabled;       /* CONTROL.ENABLE */
	uint8_t flatlined;     /* STATUS.FLATLINED */
	uint64_t last_beat;    /* guest time (ns) of the last beat or of enabling */
	uint64_t session;      /* SESSION_HI:LO, changes on start, reset and restore */
	uint32_t host_time_hi; /* latched by a HOST_TIME_LO read */
};

extern const struct device_ops heartbeat_ops;

/* Set up hb with the host's interval and timeout (0: monitor not offered). */
void heartbeat_init(struct heartbeat *hb, const struct machine_hooks *hooks, uint32_t interval_ms,
		    uint32_t timeout_ms);

/* Pick a fresh random session id (start, reset, restore). */
void heartbeat_new_session(struct heartbeat *hb);

/* Guest time at which an enabled, beating guest flatlines; UINT64_MAX if none. */
uint64_t heartbeat_next_deadline(struct heartbeat *hb);

/*
 * At guest time now: declare a flatline if the deadline passed (logged and
 * emitted as heartbeat-flatline once). Returns 1 when a new flatline began;
 * the caller runs the heartbeat action.
 */
int heartbeat_expire(struct heartbeat *hb, uint64_t now);

#endif

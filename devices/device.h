/*
 * The device model interface: a device is a struct of state plus one of these
 * ops tables. Buses hand devices offsets relative to their base, never
 * absolute addresses, and devices never see each other.
 */
#ifndef VMM_DEVICE_H
#define VMM_DEVICE_H

#include <stdint.h>

struct unit_writer;
struct unit_reader;

struct device_ops {
	const char *name; /* snapshot unit name and log prefix */
	uint32_t version; /* snapshot unit version written by save() */
	/* Guest load of len (1, 2, 4 or 8) bytes at off: fill data[0..len). */
	void (*read)(void *dev, uint64_t off, uint8_t *data, uint32_t len);
	/* Guest store of len bytes at off. */
	void (*write)(void *dev, uint64_t off, const uint8_t *data, uint32_t len);
	/* Back to power-on state (keeps host backends). */
	void (*reset)(void *dev);
	/* Append the guest-visible state to w. */
	void (*save)(void *dev, struct unit_writer *w);
	/*
	 * Replace the state with a unit written by save() at version. Returns 0,
	 * or -1 when the unit is malformed or holds an impossible value (the
	 * device is left in its reset state then).
	 */
	int (*load)(void *dev, struct unit_reader *r, uint32_t version);
};

/*
 * What a device may ask of the machine it sits in. Filled in by vmm.c; the
 * calls are safe from any thread.
 */
struct machine_hooks {
	void *ctx;
	/* Power the VM off; vmm exits with status. */
	void (*power_off)(void *ctx, int status, const char *why);
	/* The guest asked for a reset/reboot. */
	void (*reset)(void *ctx, const char *why);
	/* Assert (level 1) or deassert an ISA interrupt line. */
	void (*irq_line)(void *ctx, uint32_t irq, int level);
	/* Emit an event: name, and a JSON fragment of extra fields or NULL. */
	void (*event)(void *ctx, const char *name, const char *json_fields);
	/* The guest announced it is up (heartbeat READY). */
	void (*guest_ready)(void *ctx);
	/* Guest time in ns: a clock that stands still while the VM is paused. */
	uint64_t (*guest_time_ns)(void *ctx);
	/* A device's deadline moved: the event loop re-arms its timer. */
	void (*timers_changed)(void *ctx);
	/* Have KVM signal fd on a 4-byte write of datamatch at MMIO addr. Returns 0 or -1. */
	int (*ioeventfd)(void *ctx, uint64_t addr, uint32_t datamatch, int fd);
	/* Have KVM raise interrupt gsi whenever fd is signalled. Returns 0 or -1. */
	int (*irqfd)(void *ctx, uint32_t gsi, int fd);
};

/* Little-endian helpers for register files. */
static inline uint64_t le_get(const uint8_t *d, uint32_t len)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static inline void le_put(uint8_t *d, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len && i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

#endif

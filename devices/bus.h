/*
 * One bus abstraction for both port I/O and MMIO exits: a sorted table of
 * non-overlapping [base, base + len) ranges, each with a device and its ops.
 * Ranges are registered before any vCPU runs and never change afterwards, so
 * lookups take no lock.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include "device.h"

#include <stdint.h>

#define BUS_MAX_RANGES 64

struct bus_range {
	uint64_t base, len;
	void *dev;
	const struct device_ops *ops;
};

struct bus {
	const char *name;      /* "pio" or "mmio", for messages */
	uint8_t unmapped_read; /* byte value returned for unclaimed reads */
	int nranges;
	struct bus_range ranges[BUS_MAX_RANGES];
};

/*
 * Claim [base, base + len) for dev. Returns 0, or -1 when the range is empty,
 * wraps, overlaps another range or the table is full.
 */
int bus_register(struct bus *b, uint64_t base, uint64_t len, void *dev,
		 const struct device_ops *ops);

/* The range holding [addr, addr + len), or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len);

/*
 * Carry out one guest access. Unclaimed reads return unmapped_read in every
 * byte; unclaimed writes are dropped. Returns 1 when a device claimed it.
 */
int bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write);

#endif

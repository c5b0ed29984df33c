/* Guest physical memory: RAM from 0 up to the MMIO gap, the rest above 4 GiB. */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define MMIO_GAP_START 0xd0000000ull
#define MMIO_GAP_END 0x100000000ull /* exclusive */

struct guest_mem {
	uint8_t *host;	    /* one host mapping: low RAM, then high RAM */
	uint64_t size;	    /* total RAM bytes */
	uint64_t low_size;  /* RAM in [0, low_size) */
	uint64_t high_size; /* RAM in [4 GiB, 4 GiB + high_size) */
};

/* Split size bytes of RAM into the low and high regions (no mapping). */
void mem_layout(struct guest_mem *m, uint64_t size);

/* 1 when guest range [gpa, gpa + len) is RAM in one region and does not wrap. */
int gpa_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Host pointer for guest range [gpa, gpa + len), or NULL when any byte of it
 * is outside RAM or the range wraps. The range must lie in one region.
 */
void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Map anonymous RAM for m (after mem_layout). Returns 0, or -1 with errno. */
int mem_map_anonymous(struct guest_mem *m);

#endif

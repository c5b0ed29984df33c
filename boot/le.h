/* Little-endian loads and stores for the byte layouts of kernel images and boot structures. */
#ifndef VMM_BOOT_LE_H
#define VMM_BOOT_LE_H

#include <stdint.h>

/* The n-byte (n <= 8) little-endian value at p. */
static inline uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Store v as n little-endian bytes at p. */
static inline void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif

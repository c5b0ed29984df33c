/* SHA-256 compression on the x86 SHA extensions, used by digest.c when present. */
#ifndef VMM_SNAPSHOT_SHA256_NI_H
#define VMM_SNAPSHOT_SHA256_NI_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this CPU has SHA-NI with SSSE3 and SSE4.1. */
int sha256_ni_available(void);

/* Runs nblocks 64-byte blocks through the SHA-256 state (A..H, host order). */
void sha256_ni_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);

#endif

/*
 * SHA-256 and HMAC-SHA-256 for snapshot files (memory chunk digests, the
 * footer hash and its HMAC), over BearSSL's constant-time implementations;
 * bulk SHA-256 on the x86 SHA extensions where present (sha256_ni.c).
 */
#ifndef VMM_SNAPSHOT_DIGEST_H
#define VMM_SNAPSHOT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl_hash.h"
#include "bearssl_hmac.h"

#define DIGEST_LEN 32

struct digest_sha256 {
	br_sha256_context ctx;
};

struct digest_hmac {
	br_hmac_context ctx;
};

void digest_sha256_init(struct digest_sha256 *d);
void digest_sha256_update(struct digest_sha256 *d, const void *data, size_t len);
void digest_sha256_final(struct digest_sha256 *d, uint8_t out[DIGEST_LEN]);

/*
 * SHA-256 uses the CPU's SHA extensions when it has them (checked on first
 * use). allow=0 forces BearSSL's portable code, for tests and benchmarks;
 * returns 1 when the SHA extensions are in use after the call.
 */
int digest_sha256_accelerated(int allow);

/* The key is copied (hashed into the context); the caller may wipe it after. */
void digest_hmac_init(struct digest_hmac *h, const void *key, size_t len);
void digest_hmac_update(struct digest_hmac *h, const void *data, size_t len);
void digest_hmac_final(struct digest_hmac *h, uint8_t out[DIGEST_LEN]);

/*
 * 1 when the two DIGEST_LEN-byte values are equal, else 0. Takes the same time
 * whatever the bytes, so a forged HMAC cannot be found one byte at a time.
 */
int digest_equal(const uint8_t *a, const uint8_t *b);

#endif

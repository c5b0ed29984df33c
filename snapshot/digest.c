/* SHA-256 and HMAC-SHA-256 over BearSSL (see digest.h). */
#include <string.h>

#include "snapshot/digest.h"

void digest_sha256_init(struct digest_sha256 *d)
{
	br_sha256_init(&d->ctx);
}

void digest_sha256_update(struct digest_sha256 *d, const void *data, size_t len)
{
	br_sha256_update(&d->ctx, data, len);
}

void digest_sha256_final(struct digest_sha256 *d, uint8_t out[DIGEST_LEN])
{
	br_sha256_out(&d->ctx, out);
}

void digest_hmac_init(struct digest_hmac *h, const void *key, size_t len)
{
	br_hmac_key_context kc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, len);
	br_hmac_init(&h->ctx, &kc, DIGEST_LEN);
	/* kc holds the key's inner and outer pad states: as good as the key. */
	memset(&kc, 0, sizeof(kc));
	__asm__ volatile("" : : "r"(&kc) : "memory");
}

void digest_hmac_update(struct digest_hmac *h, const void *data, size_t len)
{
	br_hmac_update(&h->ctx, data, len);
}

void digest_hmac_final(struct digest_hmac *h, uint8_t out[DIGEST_LEN])
{
	br_hmac_out(&h->ctx, out);
	memset(h, 0, sizeof(*h));
	__asm__ volatile("" : : "r"(h) : "memory");
}

int digest_equal(const uint8_t *a, const uint8_t *b)
{
	unsigned diff = 0;

	for (size_t i = 0; i < DIGEST_LEN; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	/* (diff - 1) >> 8 has bit 0 set only when diff was 0: no branch on secrets. */
	return (int)(((diff - 1) >> 8) & 1);
}

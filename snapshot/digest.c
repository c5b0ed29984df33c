/*
 * SHA-256 and HMAC-SHA-256 over BearSSL (see digest.h). Whole blocks of a
 * large SHA-256 update go through the SHA-NI block function when the CPU has
 * it, on BearSSL's context through its public state get/set calls.
 */
#include <string.h>

#include "snapshot/digest.h"
#include "snapshot/sha256_ni.h"

/* -1 until the first use; then 1 when SHA-NI is used. Threads hash at once
 * (dump, lazy restore), so it is read and written atomically. */
static int use_ni = -1;

int digest_sha256_accelerated(int allow)
{
	int v = allow ? sha256_ni_available() : 0;
	__atomic_store_n(&use_ni, v, __ATOMIC_RELAXED);
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* nblocks whole blocks, the context's buffer being empty. */
static void blocks_ni(br_sha256_context *ctx, const uint8_t *data, size_t nblocks)
{
	uint8_t st[32];
	uint32_t val[8];
	uint64_t count = br_sha256_state(ctx, st);

	for (int i = 0; i < 8; i++)
		val[i] = be32(st + 4 * i);
	sha256_ni_blocks(val, data, nblocks);
	for (int i = 0; i < 8; i++)
		put_be32(st + 4 * i, val[i]);
	br_sha256_set_state(ctx, st, count + 64 * (uint64_t)nblocks);
}

void digest_sha256_init(struct digest_sha256 *d)
{
	if (__atomic_load_n(&use_ni, __ATOMIC_RELAXED) < 0)
		__atomic_store_n(&use_ni, sha256_ni_available(), __ATOMIC_RELAXED);
	br_sha256_init(&d->ctx);
}

void digest_sha256_update(struct digest_sha256 *d, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len >= 64 && __atomic_load_n(&use_ni, __ATOMIC_RELAXED) > 0) {
		uint8_t st[32];
		size_t fill = (64 - (size_t)(br_sha256_state(&d->ctx, st) & 63)) & 63;
		br_sha256_update(&d->ctx, p, fill); /* completes the buffered block */
		p += fill;
		len -= fill;
		if (len >= 64) {
			blocks_ni(&d->ctx, p, len / 64);
			p += len & ~(size_t)63;
			len &= 63;
		}
	}
	br_sha256_update(&d->ctx, p, len);
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

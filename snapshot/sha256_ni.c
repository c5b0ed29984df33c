/*
 * SHA-256 block function on the x86 SHA extensions (SHA-NI): about ten times
 * BearSSL's portable code, which matters when every chunk of guest memory is
 * hashed on dump and on restore. Written from the instruction definitions
 * (Intel SDM: SHA256RNDS2, SHA256MSG1, SHA256MSG2); FIPS 180-4 for the rest.
 */
#include "snapshot/sha256_ni.h"

#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

int sha256_ni_available(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	/* SSSE3 (pshufb, palignr) and SSE4.1 besides SHA itself. */
	if (!(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & bit_SHA) != 0;
}

__attribute__((target("sha,sse4.1,ssse3"))) void
sha256_ni_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks)
{
	/* Byte swap of each 32-bit lane: the message words are big-endian. */
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	/* SHA256RNDS2 keeps the state as (A,B,E,F) and (C,D,G,H), A highest. */
	__m128i abef = _mm_set_epi32((int)state[0], (int)state[1], (int)state[4], (int)state[5]);
	__m128i cdgh = _mm_set_epi32((int)state[2], (int)state[3], (int)state[6], (int)state[7]);

	for (; nblocks; nblocks--, data += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4];

		for (int g = 0; g < 16; g++) {
			__m128i m;
			if (g < 4) {
				m = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(data + 16 * g)), bswap);
			} else {
				/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], 4 at once */
				__m128i t = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
				t = _mm_add_epi32(
				    t, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
				m = _mm_sha256msg2_epu32(t, w[(g + 3) % 4]);
			}
			w[g % 4] = m;
			__m128i wk =
			    _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)(K + 4 * g)));
			/* Two rounds with the low two words, two with the high two: the
			 * old (A,B,E,F) is (C,D,G,H) two rounds later. */
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	uint32_t x[4], y[4];
	_mm_storeu_si128((__m128i *)x, abef);
	_mm_storeu_si128((__m128i *)y, cdgh);
	state[0] = x[3], state[1] = x[2], state[4] = x[1], state[5] = x[0];
	state[2] = y[3], state[3] = y[2], state[6] = y[1], state[7] = y[0];
}

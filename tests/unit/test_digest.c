/*
 * SHA-256 and HMAC-SHA-256 (snapshot/digest.c over BearSSL) against published
 * vectors: FIPS 180-2 appendix B and RFC 4231 section 4; updates in pieces
 * give the one-shot result; digest_equal sees a difference in any byte. The
 * SHA-256 checks run on BearSSL's portable code and, where the CPU has them,
 * on the SHA extensions, which must agree on every length and split.
 */
#include "../../snapshot/digest.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void from_hex(const char *hex, uint8_t out[DIGEST_LEN])
{
	for (int i = 0; i < DIGEST_LEN; i++) {
		char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
}

static int sha256_is(const void *data, size_t len, const char *hex)
{
	struct digest_sha256 d;
	uint8_t got[DIGEST_LEN], want[DIGEST_LEN];

	digest_sha256_init(&d);
	digest_sha256_update(&d, data, len);
	digest_sha256_final(&d, got);
	from_hex(hex, want);
	return memcmp(got, want, DIGEST_LEN) == 0;
}

static int hmac_is(const void *key, size_t klen, const void *data, size_t len, const char *hex)
{
	struct digest_hmac h;
	uint8_t got[DIGEST_LEN], want[DIGEST_LEN];

	digest_hmac_init(&h, key, klen);
	digest_hmac_update(&h, data, len);
	digest_hmac_final(&h, got);
	from_hex(hex, want);
	return memcmp(got, want, DIGEST_LEN) == 0;
}

TEST(sha256_fips180_vectors)
{
	const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	CHECK(sha256_is("abc", 3,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(sha256_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(sha256_is(two_blocks, strlen(two_blocks),
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
	/* A wrong vector must fail: the comparison is not vacuous. */
	CHECK(!sha256_is("abd", 3,
			 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST(sha256_million_a)
{
	size_t n = 1000000;
	char *a = malloc(n);

	CHECK(a != NULL);
	if (!a)
		return;
	memset(a, 'a', n);
	CHECK(sha256_is(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
	free(a);
}

TEST(hmac_rfc4231_vectors)
{
	uint8_t k1[20], k3[20], d3[50], k4[25], d4[50], k6[131];
	const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	const char *d7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";

	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	memset(d3, 0xdd, sizeof(d3));
	for (int i = 0; i < 25; i++)
		k4[i] = (uint8_t)(i + 1);
	memset(d4, 0xcd, sizeof(d4));
	memset(k6, 0xaa, sizeof(k6));

	CHECK(hmac_is(k1, sizeof(k1), "Hi There", 8,
		      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
	CHECK(hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
		      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
	CHECK(hmac_is(k3, sizeof(k3), d3, sizeof(d3),
		      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"));
	CHECK(hmac_is(k4, sizeof(k4), d4, sizeof(d4),
		      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"));
	CHECK(hmac_is(k6, sizeof(k6), d6, strlen(d6),
		      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
	CHECK(hmac_is(k6, sizeof(k6), d7, strlen(d7),
		      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"));
	/* Another key gives another MAC. */
	CHECK(!hmac_is("Jeff", 4, "what do ya want for nothing?", 28,
		       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

/* Pieces of every length from 0 to 130 bytes, across the 64-byte block edges. */
TEST(pieces_equal_one_shot)
{
	enum { N = 5000 };
	static uint8_t buf[N];
	uint8_t one[DIGEST_LEN], pieces[DIGEST_LEN], hone[DIGEST_LEN], hpieces[DIGEST_LEN];
	struct digest_sha256 d;
	struct digest_hmac h;
	size_t pos = 0, step = 0;

	for (size_t i = 0; i < N; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 7));
	digest_sha256_init(&d);
	digest_sha256_update(&d, buf, N);
	digest_sha256_final(&d, one);
	digest_hmac_init(&h, "key", 3);
	digest_hmac_update(&h, buf, N);
	digest_hmac_final(&h, hone);

	digest_sha256_init(&d);
	digest_hmac_init(&h, "key", 3);
	while (pos < N) {
		size_t n = step % 131;
		if (n > N - pos)
			n = N - pos;
		digest_sha256_update(&d, buf + pos, n);
		digest_hmac_update(&h, buf + pos, n);
		pos += n;
		step++;
	}
	digest_sha256_final(&d, pieces);
	digest_hmac_final(&h, hpieces);
	CHECK(memcmp(one, pieces, DIGEST_LEN) == 0);
	CHECK(memcmp(hone, hpieces, DIGEST_LEN) == 0);
	CHECK(memcmp(one, hone, DIGEST_LEN) != 0);
}

TEST(equal_sees_every_byte)
{
	uint8_t a[DIGEST_LEN], b[DIGEST_LEN];

	for (int i = 0; i < DIGEST_LEN; i++)
		a[i] = (uint8_t)(0x5a ^ i);
	memcpy(b, a, DIGEST_LEN);
	CHECK(digest_equal(a, b) == 1);
	for (int i = 0; i < DIGEST_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			CHECK(digest_equal(a, b) == 0);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	memset(b, 0, DIGEST_LEN);
	memset(a, 0xff, DIGEST_LEN);
	CHECK(digest_equal(a, b) == 0);
}

static void sha256_split(const uint8_t *buf, size_t len, size_t cut, uint8_t out[DIGEST_LEN])
{
	struct digest_sha256 d;

	digest_sha256_init(&d);
	digest_sha256_update(&d, buf, cut);
	digest_sha256_update(&d, buf + cut, len - cut);
	digest_sha256_final(&d, out);
}

/* Every length up to 600 bytes, cut at several points, both implementations. */
TEST(accelerated_matches_portable)
{
	enum { N = 600 };
	static uint8_t buf[N];
	uint8_t a[DIGEST_LEN], b[DIGEST_LEN];
	unsigned x = 12345;

	CHECK(digest_sha256_accelerated(1) == 1);
	for (size_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len <= N; len++) {
		size_t cuts[] = {0,  len / 3, len / 2, len > 63 ? 63 : len, len > 65 ? 65 : len,
				 len};
		for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			digest_sha256_accelerated(0);
			sha256_split(buf, len, cuts[c], a);
			digest_sha256_accelerated(1);
			sha256_split(buf, len, cuts[c], b);
			if (memcmp(a, b, DIGEST_LEN) != 0) {
				printf("    length %zu cut at %zu: SHA-NI and portable differ\n",
				       len, cuts[c]);
				CHECK(0);
				return;
			}
		}
	}
}

static double mib_per_s(const uint8_t *buf, size_t len)
{
	struct timespec t0, t1;
	struct digest_sha256 d;
	uint8_t out[DIGEST_LEN];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	digest_sha256_init(&d);
	digest_sha256_update(&d, buf, len);
	digest_sha256_final(&d, out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return s > 0 ? (double)len / 1048576.0 / s : 0;
}

/* Not a pass/fail figure (sanitizers slow both): printed for the record. */
static void print_speed(void)
{
	size_t len = 16u << 20;
	uint8_t *buf = calloc(1, len);

	if (!buf)
		return;
	digest_sha256_accelerated(0);
	double portable = mib_per_s(buf, len);
	int ni = digest_sha256_accelerated(1);
	double fast = ni ? mib_per_s(buf, len) : 0;
	printf("    SHA-256 here (ASan build): portable %.0f MiB/s, SHA-NI %s%.0f MiB/s\n",
	       portable, ni ? "" : "n/a ", fast);
	free(buf);
}

int main(void)
{
	int have_ni = digest_sha256_accelerated(1);

	for (int ni = 0; ni <= have_ni; ni++) {
		digest_sha256_accelerated(ni);
		check_suite = ni ? "unit/digest-sha-ni" : "unit/digest";
		RUN(sha256_fips180_vectors);
		RUN(sha256_million_a);
		RUN(pieces_equal_one_shot);
	}
	check_suite = "unit/digest";
	RUN(hmac_rfc4231_vectors);
	RUN(equal_sees_every_byte);
	/* Not counted as a pass where it cannot run: said so instead. */
	if (have_ni)
		RUN(accelerated_matches_portable);
	else
		printf("    note: no SHA extensions on this CPU: the SHA-NI path was not tested\n");
	print_speed();
	return check_summary();
}

/* Boot data: zero page fields, e820 maps, PVH start info, MP table checksums. */
#include "../../boot/bootparams.h"
#include "../../boot/layout.h"
#include "check.h"
#include "images.h"

static uint32_t r32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t r64(const uint8_t *p)
{
	return r32(p) | (uint64_t)r32(p + 4) << 32;
}

static struct guest_mem mem(uint64_t size)
{
	struct guest_mem m;
	mem_layout(&m, size);
	m.host = calloc(1, m.size);
	return m;
}

TEST(e820_low_and_high)
{
	struct guest_mem m;
	struct e820_entry e[E820_MAX];
	mem_layout(&m, 64ull << 20);
	int n = e820_build(&m, e);
	CHECK_EQ(n, 4);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0x9fc00);
	CHECK_EQ(e[3].addr, 0x100000);
	CHECK_EQ(e[3].size, (64ull << 20) - 0x100000);
	mem_layout(&m, 5ull << 30);
	n = e820_build(&m, e);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[3].size, 0xd0000000ull - 0x100000);
	CHECK_EQ(e[4].addr, 0x100000000ull);
	CHECK_EQ(e[4].size, (5ull << 30) - 0xd0000000ull);
	CHECK_EQ(e[4].type, E820_RAM);
}

TEST(gpa_translation)
{
	struct guest_mem m;
	mem_layout(&m, 5ull << 30);
	m.host = (uint8_t *)0x10000000;
	CHECK(gpa_to_hva(&m, 0, 4096) == m.host);
	CHECK(gpa_to_hva(&m, 0xcffff000, 4096) == m.host + 0xcffff000);
	CHECK(gpa_to_hva(&m, 0xcffff000, 4097) == NULL); /* runs into the gap */
	CHECK(gpa_to_hva(&m, 0xd0000000, 4) == NULL);
	CHECK(gpa_to_hva(&m, 0x100000000ull, 8) == m.host + 0xd0000000ull);
	CHECK(gpa_to_hva(&m, 0x100000000ull + 0x70000000ull - 8, 8) != NULL);
	CHECK(gpa_to_hva(&m, 0x100000000ull + 0x70000000ull - 8, 9) == NULL);
	CHECK(gpa_to_hva(&m, ~0ull - 2, 8) == NULL); /* wraps */
}

TEST(zero_page_bzimage)
{
	struct guest_mem m = mem(64ull << 20);
	struct kernel_image img;
	char err[128];
	size_t len;
	uint8_t *b = make_bzimage(0x1000, &len);
	CHECK(kernel_probe(b, len, &img, err, sizeof(err)) == 0);
	b[0x1ef] = 0xff; /* the sentinel must not be carried over */
	bootparams_write(&m, &img, 0x3000000, 0x1234);
	uint8_t *bp = m.host + BOOT_ZERO_PAGE;
	CHECK_EQ(bp[0x1ef], 0);
	CHECK_EQ(bp[0x210], 0xff);
	CHECK_EQ(r32(bp + 0x202), 0x53726448);
	CHECK_EQ(r32(bp + 0x228), BOOT_CMDLINE);
	CHECK_EQ(r32(bp + 0x218), 0x3000000);
	CHECK_EQ(r32(bp + 0x21c), 0x1234);
	CHECK_EQ(bp[0x1e8], 4);
	CHECK_EQ(r64(bp + 0x2d0 + 20 * 3), 0x100000);
	CHECK_EQ(r32(bp + 0x2d0 + 20 * 3 + 16), 1);
	CHECK_EQ(bp[0x26c], 0); /* nothing past the header copied */
	free(b);
	free(m.host);
}

TEST(pvh_start_info)
{
	struct guest_mem m = mem(64ull << 20);
	pvh_write(&m, 0x2000000, 777);
	uint8_t *si = m.host + BOOT_START_INFO;
	CHECK_EQ(r32(si), 0x336ec578);
	CHECK_EQ(r32(si + 4), 1);
	CHECK_EQ(r32(si + 12), 1);
	CHECK_EQ(r64(si + 16), BOOT_MODLIST);
	CHECK_EQ(r64(si + 24), BOOT_CMDLINE);
	CHECK_EQ(r64(si + 40), BOOT_MEMMAP);
	CHECK_EQ(r32(si + 48), 4);
	CHECK_EQ(r64(m.host + BOOT_MODLIST), 0x2000000);
	CHECK_EQ(r64(m.host + BOOT_MODLIST + 8), 777);
	CHECK_EQ(r64(m.host + BOOT_MEMMAP + 24 * 3), 0x100000);
	free(m.host);
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

TEST(mptable_checksums_and_entries)
{
	struct guest_mem m = mem(64ull << 20);
	for (int n = 1; n <= 254; n += 51) {
		mptable_write(&m, n);
		uint8_t *fp = m.host + BOOT_MPTABLE;
		CHECK(memcmp(fp, "_MP_", 4) == 0);
		CHECK_EQ(sum(fp, 16), 0);
		CHECK_EQ(r32(fp + 4), BOOT_MPTABLE + 16);
		uint8_t *t = m.host + r32(fp + 4);
		CHECK(memcmp(t, "PCMP", 4) == 0);
		uint16_t tlen = (uint16_t)(t[4] | t[5] << 8);
		CHECK_EQ(sum(t, tlen), 0);
		CHECK_EQ(t[34] | t[35] << 8, n + 28);
		/* Processor entries: APIC ids 0..n-1, only the first is the BSP. */
		for (int i = 0; i < n; i++) {
			uint8_t *e = t + 44 + 20 * i;
			CHECK_EQ(e[0], 0);
			CHECK_EQ(e[1], i);
			CHECK_EQ(e[3] & 2, i == 0 ? 2 : 0);
		}
		CHECK(BOOT_MPTABLE + 16 + tlen <= 0x100000);
	}
	free(m.host);
}

TEST(page_tables_identity)
{
	struct guest_mem m = mem(64ull << 20);
	pagetables_write(&m);
	uint64_t *pml4 = (uint64_t *)(m.host + BOOT_PML4);
	uint64_t *pd = (uint64_t *)(m.host + BOOT_PD);
	CHECK_EQ(pml4[0], BOOT_PDPT | 3);
	CHECK_EQ(pd[0], 0x83);
	CHECK_EQ(pd[2047], (2047ull << 21) | 0x83);
	free(m.host);
}

int main(void)
{
	check_suite = "unit/boot";
	RUN(e820_low_and_high);
	RUN(gpa_translation);
	RUN(zero_page_bzimage);
	RUN(pvh_start_info);
	RUN(mptable_checksums_and_entries);
	RUN(page_tables_identity);
	return check_summary();
}

/*
 * 64-bit entry: checks the zero page vmm built (loader type, command line,
 * e820 map, initrd) and prints what it found for the test to compare.
 */
#include "../lib/guest.h"

#define BP_E820_ENTRIES 0x1e8
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0

static uint32_t rd32(const uint8_t *p)
{
	return *(const uint32_t *)p;
}

static uint64_t rd64(const uint8_t *p)
{
	return *(const uint64_t *)p;
}

/* POSIX cksum (CRC-32, MSB first, length appended), to compare with cksum(1) on the host. */
static uint32_t crc_byte(uint32_t crc, uint8_t b)
{
	crc ^= (uint32_t)b << 24;
	for (int k = 0; k < 8; k++)
		crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	return crc;
}

static uint32_t cksum(const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0;
	for (uint32_t i = 0; i < n; i++)
		crc = crc_byte(crc, p[i]);
	for (uint32_t len = n; len; len >>= 8)
		crc = crc_byte(crc, (uint8_t)len);
	return ~crc;
}

void guest_main(const uint8_t *bp)
{
	if (bp[BP_TYPE_OF_LOADER] != 0xff)
		fail("type_of_loader is not 0xff");
	const char *cmdline = (const char *)(uintptr_t)rd32(bp + BP_CMD_LINE_PTR);
	if (!cmdline)
		fail("cmd_line_ptr is 0");
	puts_("cmdline: ");
	puts_(cmdline);
	putch('\n');
	uint64_t ram = 0;
	int n = bp[BP_E820_ENTRIES];
	for (int i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		puts_("e820: ");
		puthex64(rd64(e));
		putch(' ');
		puthex64(rd64(e + 8));
		putch(' ');
		putdec(rd32(e + 16));
		putch('\n');
		if (rd32(e + 16) == 1)
			ram += rd64(e + 8);
	}
	puts_("ram KiB: ");
	putdec((uint32_t)(ram >> 10));
	putch('\n');
	uint32_t addr = rd32(bp + BP_RAMDISK_IMAGE), size = rd32(bp + BP_RAMDISK_SIZE);
	if (size) {
		puts_("initrd: ");
		puthex(addr);
		putch(' ');
		putdec(cksum((const uint8_t *)(uintptr_t)addr, size));
		putch(' ');
		putdec(size);
		putch('\n');
		if (addr & 0xfff)
			fail("initrd not page-aligned");
	}
	guest_exit(0);
}

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
		puthex((uint32_t)(rd64(e) >> 32));
		puthex((uint32_t)rd64(e));
		putch(' ');
		puthex((uint32_t)(rd64(e + 8) >> 32));
		puthex((uint32_t)rd64(e + 8));
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
		/* FNV-1a over the initrd, compared by the test with the host's file. */
		uint32_t h = 2166136261u;
		const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
		for (uint32_t i = 0; i < size; i++)
			h = (h ^ p[i]) * 16777619u;
		puts_("initrd: ");
		puthex(addr);
		putch(' ');
		putdec(size);
		putch(' ');
		puthex(h);
		putch('\n');
		if (addr & 0xfff)
			fail("initrd not page-aligned");
	}
	guest_exit(0);
}

/*
 * Counts and prints "n=K" lines, one every few milliseconds of host time,
 * and exits with status 7 after n=limit (limit=N on the command line,
 * default 60). Writes READY after n=ready (default 5). The numbers let a
 * test see that a snapshot and restore lose or repeat nothing; the state
 * lives in registers and on the stack, so restore must get both right.
 * With touch=1 it reads one byte of every page of its initrd right after
 * READY, prints "touched K KiB", then counts: a measure of first-touch cost.
 */
#include "../lib/guest.h"

static void touch_initrd(void *zero_page)
{
	uint32_t start = *(uint32_t *)((uint8_t *)zero_page + 0x218);
	uint32_t size = *(uint32_t *)((uint8_t *)zero_page + 0x21c);
	uint32_t sum = 0;
	for (uint32_t off = 0; off < size; off += 4096)
		sum += *(volatile uint8_t *)(uintptr_t)(start + off);
	puts_("touched ");
	putdec(size >> 10);
	puts_(" KiB ");
	putdec(sum & 1);
	putch('\n');
}

void guest_main(void *zero_page)
{
	const char *cmdline =
	    (const char *)(uintptr_t) * (uint32_t *)((uint8_t *)zero_page + 0x228);
	uint32_t limit = cmdline_uint(cmdline, "limit", 60);
	uint32_t ready = cmdline_uint(cmdline, "ready", 5);
	uint32_t gap = cmdline_uint(cmdline, "gap", 5);
	uint64_t sum = 0;
	for (uint32_t n = 1; n <= limit; n++) {
		sum += n;
		puts_("n=");
		putdec(n);
		putch('\n');
		if (n == ready) {
			mmio_write32(HB_BASE + HB_READY, 1);
			if (cmdline_uint(cmdline, "touch", 0))
				touch_initrd(zero_page);
		}
		delay_ms(gap);
	}
	if (sum != (uint64_t)limit * (limit + 1) / 2)
		fail("sum");
	puts_("done\n");
	guest_exit(7);
}

/*
 * Reads every heartbeat register, signals READY, and exits through EXIT with 42.
 * Offsets are written out as numbers on purpose: this checks the register map
 * against DESIGN.md, independently of heartbeat_regs.h.
 */
#include "../lib/guest.h"

#define R(off) mmio_read32(HB_BASE + (off))

void guest_main(void *zero_page)
{
	(void)zero_page;
	if (R(0x00) != 0x31544248)
		fail("MAGIC");
	if (R(0x04) != 1)
		fail("VERSION");
	if (!R(0x24) && !R(0x28))
		fail("SESSION is zero");
	uint32_t lo = R(0x2c), hi = R(0x30);
	/* 2020-01-01 is 1.5777e18 ns since the epoch: hi >= 0x15e6a... */
	if (hi < 0x15e00000u)
		fail("HOST_TIME is before 2020");
	(void)lo;
	if (R(0x34) != 0 || R(0x100) != 0 || R(0xffc) != 0)
		fail("unused offsets must read 0");
	mmio_write32(HB_BASE + 0x34, 0x1234); /* ignored */
	puts_("heartbeat session ");
	puthex(R(0x28));
	puthex(R(0x24));
	putch('\n');
	mmio_write32(HB_BASE + HB_READY, 1);
	guest_exit(0x100 + 42); /* only the low 8 bits count */
}

/*
 * The heartbeat monitor from the guest side: enable, beat at the host's
 * interval for a while, fall silent for silent=MS, beat again, exit 0.
 * With silent=0 it beats for beats=N intervals and exits.
 */
#include "../lib/guest.h"

static void beat_for(uint32_t n, uint32_t interval)
{
	for (uint32_t i = 0; i < n; i++) {
		mmio_write32(HB_BASE + HB_BEAT, 1);
		delay_ms(interval);
	}
}

void guest_main(const uint8_t *bp)
{
	const char *cmdline = (const char *)(uintptr_t) * (const uint32_t *)(bp + 0x228);
	uint32_t interval = mmio_read32(HB_BASE + HB_INTERVAL_MS);
	if (!interval)
		fail("INTERVAL_MS is 0: run with --heartbeat");
	mmio_write32(HB_BASE + HB_CONTROL, 1);
	if (!(mmio_read32(HB_BASE + HB_STATUS) & 1))
		fail("STATUS.ACTIVE not set after enabling");
	mmio_write32(HB_BASE + HB_READY, 1);
	beat_for(cmdline_uint(cmdline, "beats", 5), interval);
	uint32_t silent = cmdline_uint(cmdline, "silent", 0);
	if (silent) {
		puts_("falling silent\n");
		delay_ms(silent);
		puts_("status after silence ");
		putdec(mmio_read32(HB_BASE + HB_STATUS));
		putch('\n');
		beat_for(3, interval);
		puts_("status after beats ");
		putdec(mmio_read32(HB_BASE + HB_STATUS));
		putch('\n');
	}
	guest_exit(0);
}

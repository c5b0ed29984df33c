/* Prints "tick N" lines forever: something to pause, resume and stop. */
#include "../lib/guest.h"

void guest_main(void *zero_page)
{
	(void)zero_page;
	mmio_write32(HB_BASE + HB_READY, 1);
	for (uint32_t n = 0;; n++) {
		puts_("tick ");
		putdec(n);
		putch('\n');
		for (volatile uint32_t i = 0; i < 20000; i++)
			;
	}
}

/* Self-tests the i8042 controller, reads its command byte, then resets the machine through it. */
#include "../lib/guest.h"

static uint8_t read_data(void)
{
	for (int i = 0; i < 1000; i++)
		if (inb(0x64) & 1)
			return inb(0x60);
	fail("i8042 output buffer stayed empty");
}

void guest_main(void *zero_page)
{
	(void)zero_page;
	outb(0x64, 0xaa);
	if (read_data() != 0x55)
		fail("i8042 self-test did not answer 0x55");
	outb(0x64, 0x20);
	uint8_t ctr = read_data();
	puts_("i8042 self-test ok, command byte ");
	puthex(ctr);
	puts_("\nresetting through 0x64\n");
	outb(0x64, 0xfe);
	fail("still running after the i8042 reset");
}

/* Prints one line and exits 0: the smallest whole-VM check, and the boot benchmark's guest. */
#include "../lib/guest.h"

void guest_main(void *zero_page)
{
	(void)zero_page;
	puts_("hello from a 64-bit guest\n");
	guest_exit(0);
}

/* Echoes console input in upper case until a newline: the stdin -> UART receive path. */
#include "../lib/guest.h"

void guest_main(void *zero_page)
{
	(void)zero_page;
	outb(COM1 + 1, 0); /* no interrupts: this guest polls */
	puts_("echo ready\n");
	for (;;) {
		while (!(inb(COM1 + 5) & 1))
			;
		char c = (char)inb(COM1);
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		putch(c);
		if (c == '\n')
			guest_exit(0);
	}
}

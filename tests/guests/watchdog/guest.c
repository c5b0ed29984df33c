/*
 * The ib700 watchdog from the guest side. The command line picks a mode:
 *   mode=expire wd=V  arm with value V, signal READY, then hang (spin)
 *   mode=ping         arm for 2 s, ping every 500 ms for 4 s, stop it, wait 3 s, exit 0
 *   mode=nmi          install an NMI handler, arm for 0 s; the handler exits 0
 *   mode=reset        print the session id, arm for 2 s, hang (each boot prints again)
 *   mode=shutdown     arm for 0 s, read the i8042 until Ctrl-Alt-Del arrives, print the
 *                     scancodes, exit 0 (vmm turns that into 124: the watchdog ended it)
 */
#include "../lib/guest.h"

#define WDT_STOP 0x441
#define WDT_START 0x443

struct __attribute__((packed)) idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

static struct idt_entry idt[32] __attribute__((aligned(16)));

void nmi_entry(void);
__asm__(".text\n.globl nmi_entry\nnmi_entry:\n call nmi_handler\n 1: hlt\n jmp 1b\n");

void nmi_handler(void)
{
	puts_("NMI received\n");
	guest_exit(0);
}

static void install_nmi_handler(void)
{
	uint64_t h = (uint64_t)(uintptr_t)nmi_entry;
	idt[2] = (struct idt_entry){(uint16_t)h,	 0x10, 0, 0x8e, (uint16_t)(h >> 16),
				    (uint32_t)(h >> 32), 0};
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} d = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(d));
}

static int mode_is(const char *cmdline, const char *m)
{
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && streq_prefix(p, "mode=") &&
		    streq_prefix(p + 5, m))
			return 1;
	return 0;
}

static __attribute__((noreturn)) void hang(void)
{
	for (;;)
		__asm__ volatile("pause");
}

void guest_main(const uint8_t *bp)
{
	const char *cmdline = (const char *)(uintptr_t) * (const uint32_t *)(bp + 0x228);
	if (mode_is(cmdline, "expire")) {
		outb(WDT_START, (uint8_t)cmdline_uint(cmdline, "wd", 14));
		mmio_write32(HB_BASE + HB_READY, 1);
		puts_("armed\n");
		hang();
	}
	if (mode_is(cmdline, "ping")) {
		outb(WDT_START, 14); /* 2 s */
		for (int i = 0; i < 8; i++) {
			delay_ms(500);
			outb(WDT_START, 14);
		}
		outb(WDT_STOP, 0);
		puts_("stopped\n");
		delay_ms(3000);
		puts_("still alive\n");
		guest_exit(0);
	}
	if (mode_is(cmdline, "nmi")) {
		install_nmi_handler();
		outb(WDT_START, 15); /* 0 s: expires at once */
		hang();
	}
	if (mode_is(cmdline, "shutdown")) {
		outb(WDT_START, 15);
		puts_("scancodes:");
		for (int n = 0; n < 8;) {
			if (!(inb(0x64) & 1))
				continue;
			putch(' ');
			puthex(inb(0x60));
			n++;
		}
		putch('\n');
		guest_exit(0);
	}
	if (mode_is(cmdline, "reset")) {
		puts_("boot session ");
		puthex(mmio_read32(HB_BASE + HB_SESSION_HI));
		puthex(mmio_read32(HB_BASE + HB_SESSION_LO));
		putch('\n');
		outb(WDT_START, 14);
		hang();
	}
	fail("no mode= on the command line");
}

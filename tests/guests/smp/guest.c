/*
 * Wakes the second vCPU with INIT and SIPI through the local APIC. The AP
 * starts in real mode at 0x3000, reads its APIC id with CPUID and reports
 * it in memory; the BSP checks both ids (0 and 1).
 */
#include "../lib/guest.h"

#define LAPIC 0xfee00000u
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define TRAMPOLINE 0x3000
#define AP_ID ((volatile uint32_t *)0x2ff0)
#define AP_FLAG ((volatile uint32_t *)0x2ff4)

extern const uint8_t ap_start[], ap_end[];
__asm__(".section .rodata\n"
	".globl ap_start, ap_end\n"
	".code16\n"
	"ap_start:\n"
	"  xor %ax, %ax\n"
	"  mov %ax, %ds\n"
	"  mov $1, %eax\n"
	"  cpuid\n"
	"  shr $24, %ebx\n"
	"  mov %ebx, 0x2ff0\n"
	"  movl $0xa5a5a5a5, 0x2ff4\n"
	"1: hlt\n"
	"  jmp 1b\n"
	"ap_end:\n"
	".code64\n"
	".previous\n");

static uint32_t my_apic_id(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b >> 24;
}

static void icr(uint32_t dest, uint32_t lo)
{
	mmio_write32(LAPIC + APIC_ICR_HI, dest << 24);
	mmio_write32(LAPIC + APIC_ICR_LO, lo);
}

void guest_main(void *zero_page)
{
	(void)zero_page;
	uint8_t *t = (uint8_t *)TRAMPOLINE;
	for (const uint8_t *p = ap_start; p < ap_end; p++)
		*t++ = *p;
	*AP_FLAG = 0;
	*AP_ID = 0xffffffff;
	uint32_t bsp = my_apic_id();
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	icr(1, 0x00004500);			 /* INIT */
	icr(1, 0x00004600 | (TRAMPOLINE >> 12)); /* STARTUP at 0x3000 */
	for (int i = 0; i < 300000 && *AP_FLAG != 0xa5a5a5a5; i++)
		__asm__ volatile("pause");
	if (*AP_FLAG != 0xa5a5a5a5)
		fail("the AP never ran");
	puts_("smp: bsp apic id ");
	putdec(bsp);
	puts_(", ap apic id ");
	putdec(*AP_ID);
	putch('\n');
	if (bsp != 0 || *AP_ID != 1)
		fail("wrong APIC ids");
	guest_exit(0);
}

/*
 * Loads an empty IDT and touches an unmapped address: the page fault cannot be
 * delivered, nor the double fault, so the CPU triple-faults and the VM ends.
 * (int3 would do too on real hardware, but PVM's emulator fails on it.)
 */
#include "../lib/guest.h"

void guest_main(void *zero_page)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idt = {0, 0};
	(void)zero_page;
	puts_("triple fault next\n");
	__asm__ volatile("lidt %0; movq 0x800000000, %%rax" : : "m"(idt) : "rax");
	fail("still running after a triple fault");
}

/*
 * The restore benchmark's guest, bootable by vmm and by QEMU's microvm alike
 * (32-bit PVH entry). Its memory is filled by the loader (a large random
 * initrd), not by guest code: every guest instruction is emulated here.
 * Prints one line, writes the heartbeat's READY register (where
 * --snapshot-on-ready dumps; on QEMU the write goes nowhere), then prints
 * "tick" lines forever, so a restored guest shows it is running within one
 * short line. With "sweep=1" on the command line it first reads one word of
 * every initrd page between a "sweeping" and a "swept" line, which times the
 * first touch of restored memory.
 */
#include "../lib/guest.h"

/* The parts of Xen's hvm_start_info and its module list this guest reads. */
struct start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr;
};
struct module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

static uint32_t sweep(const struct start_info *si)
{
	if (si->nr_modules < 1 || si->modlist_paddr >> 32)
		fail("restorebench: sweep=1 needs an initrd below 4 GiB");
	const struct module *m = (const struct module *)(uintptr_t)si->modlist_paddr;
	if ((m->paddr + m->size) >> 32)
		fail("restorebench: the initrd must lie below 4 GiB");
	uint32_t sum = 0;
	for (uint64_t off = 0; off < m->size; off += 4096)
		sum += *(volatile const uint32_t *)(uintptr_t)(m->paddr + off);
	return sum;
}

void guest_main(void *start_info)
{
	const struct start_info *si = start_info;
	const char *cmdline = si->cmdline_paddr && !(si->cmdline_paddr >> 32)
				  ? (const char *)(uintptr_t)si->cmdline_paddr
				  : "";
	int do_sweep = cmdline_uint(cmdline, "sweep", 0) != 0;

	puts_("restorebench: booted\n");
	mmio_write32(HB_BASE + HB_READY, 1);
	if (do_sweep) {
		puts_("restorebench: sweeping\n");
		uint32_t sum = sweep(si);
		puts_("restorebench: swept ");
		puthex(sum);
		putch('\n');
	}
	for (;;)
		puts_("tick\n");
}

/*
 * 32-bit PVH entry: checks hvm_start_info (magic, version, command line,
 * memory map), prints the command line, and exits with "exit=N" from it.
 */
#include "../lib/guest.h"

struct start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist, cmdline, rsdp, memmap;
	uint32_t memmap_entries, reserved;
};

void guest_main(struct start_info *si)
{
	if (si->magic != 0x336ec578)
		fail("hvm_start_info magic");
	if (si->version < 1)
		fail("hvm_start_info version");
	if (!si->cmdline || si->cmdline >> 32)
		fail("no command line");
	if (!si->memmap || si->memmap_entries < 2)
		fail("no memory map");
	const char *cmdline = (const char *)(uintptr_t)si->cmdline;
	puts_("pvh32 cmdline: ");
	puts_(cmdline);
	puts_("\npvh32 memmap entries: ");
	putdec(si->memmap_entries);
	putch('\n');
	guest_exit(cmdline_uint(cmdline, "exit", 0));
}

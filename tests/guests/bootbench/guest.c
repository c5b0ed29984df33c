/*
 * The boot benchmark's guest, bootable by vmm and by QEMU's microvm alike
 * (PVH entry): prints one line, then exits through the heartbeat EXIT
 * register (vmm) or, where that is absent, QEMU's isa-debug-exit at 0xf4.
 */
#include "../lib/guest.h"

void guest_main(void *start_info)
{
	(void)start_info;
	puts_("bootbench: guest running\n");
	guest_exit_or_debug_port(0);
}

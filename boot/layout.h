/* Fixed guest-physical addresses of the boot structures vmm writes. */
#ifndef VMM_BOOT_LAYOUT_H
#define VMM_BOOT_LAYOUT_H

#define BOOT_GDT 0x500ull
#define BOOT_IDT 0x520ull
#define BOOT_START_INFO 0x6000ull /* PVH hvm_start_info */
#define BOOT_MODLIST 0x6040ull	  /* PVH module list (the initrd) */
#define BOOT_MEMMAP 0x6100ull	  /* PVH memory map, up to 32 entries */
#define BOOT_ZERO_PAGE 0x7000ull  /* Linux boot_params */
#define BOOT_STACK 0x8ff0ull
#define BOOT_PML4 0x9000ull
#define BOOT_PDPT 0xa000ull
#define BOOT_PD 0xb000ull /* four page directories: identity map of 4 GiB */
#define BOOT_CMDLINE 0x20000ull
#define BOOT_CMDLINE_MAX 4096u	/* including the NUL */
#define BOOT_EBDA 0x9fc00ull	/* end of base RAM; [EBDA, 1 MiB) is reserved */
#define BOOT_MPTABLE 0xf0000ull /* BIOS area, scanned by Linux for "_MP_" */
#define BOOT_KERNEL 0x100000ull /* where kernels load (1 MiB) */
#define BOOT_HIMEM BOOT_KERNEL

#define IOAPIC_ADDR 0xfec00000ull
#define LAPIC_ADDR 0xfee00000ull
#define KVM_TSS_ADDR 0xfffbd000ull /* three pages in the MMIO gap for VMX */

#define BOOT_MIN_MEM (4ull << 20)

#endif

/* Boot-time data structures written into guest RAM before the first vCPU runs. */
#ifndef VMM_BOOT_PARAMS_H
#define VMM_BOOT_PARAMS_H

#include "le.h"
#include "loader.h"

#include <stdint.h>

#define E820_MAX 8
#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* The guest memory map for m; returns the entry count (<= E820_MAX). */
int e820_build(const struct guest_mem *m, struct e820_entry *e);

/*
 * Write the Linux zero page (boot_params) at BOOT_ZERO_PAGE for img: setup
 * header (bzImage) or a minimal one (ELF), loader type, command line at
 * BOOT_CMDLINE, initrd, e820 map.
 */
void bootparams_write(const struct guest_mem *m, const struct kernel_image *img,
		      uint64_t initrd_gpa, uint64_t initrd_size);

/* Write the PVH hvm_start_info, module list and memory map at BOOT_START_INFO. */
void pvh_write(const struct guest_mem *m, uint64_t initrd_gpa, uint64_t initrd_size);

/* Write the command line (NUL included) at BOOT_CMDLINE. */
void cmdline_write(const struct guest_mem *m, const char *cmdline);

/* Identity-map the first 4 GiB with 2 MiB pages at BOOT_PML4.. (long mode entry). */
void pagetables_write(const struct guest_mem *m);

/* Write the boot GDT at BOOT_GDT for the entry mode (code selector 0x10, data 0x18, TSS 0x20). */
void gdt_write(const struct guest_mem *m, enum entry_mode mode);

/*
 * Write an Intel MP table for ncpus processors (APIC ids 0..ncpus-1), an ISA
 * bus, one IOAPIC and identity-routed IRQs 0..23, at BOOT_MPTABLE. Returns
 * the bytes used.
 */
uint32_t mptable_write(const struct guest_mem *m, int ncpus);

#endif

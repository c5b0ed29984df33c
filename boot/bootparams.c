/* Linux zero page, PVH start info, e820 map and the command line. */
#include "bootparams.h"

#include "layout.h"

#include <string.h>

/* boot_params offsets (Documentation/arch/x86/zero-page.rst, boot.rst). */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_HDR 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0

#define PVH_MAGIC 0x336ec578

int e820_build(const struct guest_mem *m, struct e820_entry *e)
{
	int n = 0;
	e[n++] = (struct e820_entry){0, BOOT_EBDA, E820_RAM};
	e[n++] = (struct e820_entry){BOOT_EBDA, 0xa0000 - BOOT_EBDA, E820_RESERVED};
	e[n++] = (struct e820_entry){BOOT_MPTABLE, BOOT_HIMEM - BOOT_MPTABLE, E820_RESERVED};
	e[n++] = (struct e820_entry){BOOT_HIMEM, m->low_size - BOOT_HIMEM, E820_RAM};
	if (m->high_size)
		e[n++] = (struct e820_entry){MMIO_GAP_END, m->high_size, E820_RAM};
	return n;
}

void cmdline_write(const struct guest_mem *m, const char *cmdline)
{
	size_t n = strlen(cmdline) + 1;
	memcpy(gpa_to_hva(m, BOOT_CMDLINE, n), cmdline, n);
}

void bootparams_write(const struct guest_mem *m, const struct kernel_image *img,
		      uint64_t initrd_gpa, uint64_t initrd_size)
{
	uint8_t *bp = gpa_to_hva(m, BOOT_ZERO_PAGE, 4096);
	memset(bp, 0, 4096);
	if (img->setup_hdr) {
		/* Only the header: copying more would carry the sentinel byte. */
		memcpy(bp + BP_SETUP_HDR, img->setup_hdr, img->setup_hdr_len);
	} else {
		put_le(bp + BP_BOOT_FLAG, 0xaa55, 2);
		memcpy(bp + BP_HEADER, "HdrS", 4);
		put_le(bp + BP_KERNEL_ALIGNMENT, 0x1000000, 4);
		put_le(bp + BP_CMDLINE_SIZE, img->cmdline_max, 4);
	}
	put_le(bp + BP_VID_MODE, 0xffff, 2);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	put_le(bp + BP_CMD_LINE_PTR, BOOT_CMDLINE, 4);
	put_le(bp + BP_RAMDISK_IMAGE, initrd_gpa, 4);
	put_le(bp + BP_RAMDISK_SIZE, initrd_size, 4);
	put_le(bp + BP_EXT_RAMDISK_IMAGE, initrd_gpa >> 32, 4);
	put_le(bp + BP_EXT_RAMDISK_SIZE, initrd_size >> 32, 4);
	struct e820_entry e[E820_MAX];
	int n = e820_build(m, e);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *p = bp + BP_E820_TABLE + 20 * i;
		put_le(p, e[i].addr, 8);
		put_le(p + 8, e[i].size, 8);
		put_le(p + 16, e[i].type, 4);
	}
}

void pvh_write(const struct guest_mem *m, uint64_t initrd_gpa, uint64_t initrd_size)
{
	uint8_t *si = gpa_to_hva(m, BOOT_START_INFO, BOOT_MEMMAP + 24 * E820_MAX - BOOT_START_INFO);
	memset(si, 0, 56);
	put_le(si + 0, PVH_MAGIC, 4);
	put_le(si + 4, 1, 4); /* version */
	if (initrd_size) {
		uint8_t *mod = si + (BOOT_MODLIST - BOOT_START_INFO);
		memset(mod, 0, 32);
		put_le(mod, initrd_gpa, 8);
		put_le(mod + 8, initrd_size, 8);
		put_le(si + 12, 1, 4); /* nr_modules */
		put_le(si + 16, BOOT_MODLIST, 8);
	}
	put_le(si + 24, BOOT_CMDLINE, 8);
	struct e820_entry e[E820_MAX];
	int n = e820_build(m, e);
	uint8_t *mm = si + (BOOT_MEMMAP - BOOT_START_INFO);
	for (int i = 0; i < n; i++) {
		put_le(mm + 24 * i, e[i].addr, 8);
		put_le(mm + 24 * i + 8, e[i].size, 8);
		put_le(mm + 24 * i + 16, e[i].type, 4);
		put_le(mm + 24 * i + 20, 0, 4);
	}
	put_le(si + 40, BOOT_MEMMAP, 8);
	put_le(si + 48, (uint64_t)n, 4);
}

void pagetables_write(const struct guest_mem *m)
{
	uint64_t *pml4 = gpa_to_hva(m, BOOT_PML4, 4096);
	uint64_t *pdpt = gpa_to_hva(m, BOOT_PDPT, 4096);
	uint64_t *pd = gpa_to_hva(m, BOOT_PD, 4 * 4096);
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT | 0x3; /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
}

void gdt_write(const struct guest_mem *m, enum entry_mode mode)
{
	uint64_t *gdt = gpa_to_hva(m, BOOT_GDT, 6 * 8);
	gdt[0] = 0;
	gdt[1] = 0;
	/* Code at 0x10 and data at 0x18 as boot.rst names __BOOT_CS/__BOOT_DS. */
	gdt[2] = mode == ENTRY_LONG64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull;
	gdt[3] = 0x00cf93000000ffffull;
	gdt[4] = 0x00008b0000000067ull; /* busy TSS, base 0, limit 0x67 */
	gdt[5] = 0;
	uint64_t *idt = gpa_to_hva(m, BOOT_IDT, 8);
	*idt = 0;
}

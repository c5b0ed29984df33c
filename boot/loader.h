/*
 * Kernel image probing and loading. Probing parses an untrusted image held in
 * memory and produces a plan (segments, entry, limits); it never touches the
 * guest. Loading copies the planned segments into guest RAM.
 */
#ifndef VMM_BOOT_LOADER_H
#define VMM_BOOT_LOADER_H

#include "../memory.h"

#include <stddef.h>
#include <stdint.h>

#define KERNEL_MAX_SEGMENTS 16

enum kernel_kind {
	KERNEL_BZIMAGE, /* Linux bzImage, 64-bit boot protocol */
	KERNEL_ELF64,	/* ELF64 without PVH note: 64-bit entry at e_entry */
	KERNEL_ELF_PVH, /* ELF (32 or 64) with a Xen PVH entry note */
	KERNEL_ELF32,	/* ELF32 without note: 32-bit protected-mode entry */
};

enum entry_mode {
	ENTRY_LONG64, /* long mode, identity paging, RSI = zero page */
	ENTRY_PROT32, /* 32-bit protected mode, no paging, EBX = hvm_start_info */
};

struct load_segment {
	uint64_t file_off, file_size; /* bytes copied from the image */
	uint64_t gpa, mem_size;	      /* mem_size >= file_size; the rest is zero */
};

struct kernel_image {
	enum kernel_kind kind;
	enum entry_mode mode;
	uint64_t entry;
	int nseg;
	struct load_segment seg[KERNEL_MAX_SEGMENTS];
	uint64_t load_end;    /* first byte above everything the kernel occupies */
	uint64_t initrd_max;  /* highest byte an initrd may occupy */
	uint32_t cmdline_max; /* longest command line, NUL excluded */
	/* bzImage only: the setup header, bytes 0x1f1 up to its end. */
	const uint8_t *setup_hdr;
	size_t setup_hdr_len;
};

/*
 * Parse image[0..len) as a bzImage or an ELF kernel. Returns 0 and fills img,
 * or -1 with a one-line reason in err (errlen bytes). Every offset and size
 * taken from the image is checked against len.
 */
int kernel_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err,
		 size_t errlen);

int bzimage_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err,
		  size_t errlen);
int elf_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err, size_t errlen);

/*
 * Check that img fits in m with an initrd of initrd_size bytes (0: none).
 * On success stores the initrd's address in *initrd_gpa and returns 0;
 * otherwise -1 with the reason in err.
 */
int kernel_plan_fit(const struct kernel_image *img, const struct guest_mem *m, uint64_t initrd_size,
		    uint64_t *initrd_gpa, char *err, size_t errlen);

/* Copy the planned segments from image into guest RAM (after kernel_plan_fit). */
void kernel_load(const struct kernel_image *img, const uint8_t *image, const struct guest_mem *m);

#endif

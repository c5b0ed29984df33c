/* Kernel format detection, fit checks and loading. */
#include "loader.h"

#include "layout.h"

#include <stdio.h>
#include <string.h>

int kernel_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err,
		 size_t errlen)
{
	memset(img, 0, sizeof(*img));
	if (len >= 4 && memcmp(image, "\177ELF", 4) == 0)
		return elf_probe(image, len, img, err, errlen);
	if (len >= 0x206 && memcmp(image + 0x202, "HdrS", 4) == 0)
		return bzimage_probe(image, len, img, err, errlen);
	if (len < 0x206)
		snprintf(err, errlen, "too short (%zu bytes) to be a kernel", len);
	else
		snprintf(err, errlen, "not a kernel: no ELF magic and no bzImage 'HdrS' header");
	return -1;
}

int kernel_plan_fit(const struct kernel_image *img, const struct guest_mem *m, uint64_t initrd_size,
		    uint64_t *initrd_gpa, char *err, size_t errlen)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct load_segment *s = &img->seg[i];
		if (!gpa_range_ok(m, s->gpa, s->mem_size)) {
			snprintf(err, errlen,
				 "kernel segment at 0x%llx (%llu bytes) is outside guest RAM "
				 "(%llu MiB): give more --mem",
				 (unsigned long long)s->gpa, (unsigned long long)s->mem_size,
				 (unsigned long long)(m->size >> 20));
			return -1;
		}
	}
	if (img->load_end > m->low_size) {
		snprintf(err, errlen, "kernel needs RAM up to 0x%llx, guest has %llu MiB",
			 (unsigned long long)img->load_end, (unsigned long long)(m->size >> 20));
		return -1;
	}
	*initrd_gpa = 0;
	if (!initrd_size)
		return 0;
	/* Highest page-aligned spot in low RAM, as high as the kernel allows. */
	uint64_t top = m->low_size;
	if (img->initrd_max && img->initrd_max + 1 < top)
		top = img->initrd_max + 1;
	uint64_t lowest = (img->load_end + 0xfff) & ~0xfffull;
	if (initrd_size > top || ((top - initrd_size) & ~0xfffull) < lowest) {
		snprintf(err, errlen,
			 "initrd (%llu bytes) does not fit in guest RAM between the kernel's "
			 "end 0x%llx and 0x%llx: give more --mem",
			 (unsigned long long)initrd_size, (unsigned long long)lowest,
			 (unsigned long long)top);
		return -1;
	}
	*initrd_gpa = (top - initrd_size) & ~0xfffull;
	return 0;
}

void kernel_load(const struct kernel_image *img, const uint8_t *image, const struct guest_mem *m)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct load_segment *s = &img->seg[i];
		uint8_t *dst = gpa_to_hva(m, s->gpa, s->mem_size);
		memcpy(dst, image + s->file_off, s->file_size);
		/* Fresh anonymous RAM is already zero: the bss needs no memset. */
	}
}

/* bzImage probing: the x86 boot protocol's setup header, 64-bit entry only. */
#include "loader.h"

#include "layout.h"
#include "le.h"

#include <stdio.h>
#include <string.h>

#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_VERSION 0x206
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define XLF_KERNEL_64 0x1

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)get_le(p, 4);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)get_le(p, 2);
}

int bzimage_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err,
		  size_t errlen)
{
	if (len < HDR_INIT_SIZE + 4) {
		snprintf(err, errlen, "bzImage truncated: %zu bytes, header alone needs %u", len,
			 HDR_INIT_SIZE + 4);
		return -1;
	}
	uint16_t version = rd16(image + HDR_VERSION);
	if (rd16(image + HDR_BOOT_FLAG) != 0xaa55) {
		snprintf(err, errlen, "bzImage boot flag is 0x%04x, not 0xaa55",
			 rd16(image + HDR_BOOT_FLAG));
		return -1;
	}
	if (version < 0x020c || !(image[HDR_XLOADFLAGS] & XLF_KERNEL_64)) {
		snprintf(err, errlen,
			 "bzImage boot protocol %u.%02u without a 64-bit entry "
			 "(needs 2.12 and XLF_KERNEL_64)",
			 version >> 8, version & 0xff);
		return -1;
	}
	uint32_t setup_sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS] : 4;
	uint64_t setup_size = ((uint64_t)setup_sects + 1) * 512;
	uint64_t payload = (uint64_t)rd32(image + HDR_SYSSIZE) * 16;
	if (setup_size >= len || payload == 0 || payload > len - setup_size) {
		snprintf(err, errlen,
			 "bzImage truncated: setup %llu + kernel %llu bytes, file has %zu",
			 (unsigned long long)setup_size, (unsigned long long)payload, len);
		return -1;
	}
	uint64_t init_size = rd32(image + HDR_INIT_SIZE);
	if (init_size < payload)
		init_size = payload;
	/* The header runs from 0x1f1 to 0x202 + the byte at 0x201 (its jump). */
	size_t hdr_end = HDR_JUMP + 2 + image[HDR_JUMP + 1];
	if (hdr_end > len || hdr_end > 0x1000) {
		snprintf(err, errlen, "bzImage setup header end 0x%zx is out of range", hdr_end);
		return -1;
	}
	img->kind = KERNEL_BZIMAGE;
	img->mode = ENTRY_LONG64;
	img->entry = BOOT_KERNEL + 0x200;
	img->nseg = 1;
	img->seg[0] = (struct load_segment){setup_size, payload, BOOT_KERNEL, init_size};
	img->load_end = BOOT_KERNEL + init_size;
	img->initrd_max = rd32(image + HDR_INITRD_ADDR_MAX);
	uint32_t cmax = rd32(image + HDR_CMDLINE_SIZE);
	img->cmdline_max = cmax && cmax < BOOT_CMDLINE_MAX ? cmax : BOOT_CMDLINE_MAX - 1;
	img->setup_hdr = image + HDR_SETUP_SECTS;
	img->setup_hdr_len = hdr_end - HDR_SETUP_SECTS;
	return 0;
}

/* Synthetic kernel images for loader tests and fuzz seeds. */
#ifndef TEST_IMAGES_H
#define TEST_IMAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)v);
	w16(p + 2, (uint16_t)(v >> 16));
}
static inline void w64(uint8_t *p, uint64_t v)
{
	w32(p, (uint32_t)v);
	w32(p + 4, (uint32_t)(v >> 32));
}

/* A bzImage: 4 setup sectors + 1 boot sector, then payload bytes of kernel. */
static inline uint8_t *make_bzimage(size_t payload, size_t *len)
{
	size_t setup = 5 * 512;
	*len = setup + payload;
	uint8_t *b = calloc(1, *len);
	b[0x1f1] = 4;
	w32(b + 0x1f4, (uint32_t)(payload / 16));
	w16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x202 + 0x6a = 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	w16(b + 0x206, 0x020f);
	w32(b + 0x22c, 0x7fffffff);
	b[0x236] = 0x3; /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	w32(b + 0x238, 2047);
	w32(b + 0x260, (uint32_t)(payload * 3));
	for (size_t i = setup; i < *len; i++)
		b[i] = (uint8_t)i;
	return b;
}

/* An ELF (64- or 32-bit) with one PT_LOAD at paddr and optionally a PVH note. */
static inline uint8_t *make_elf(int is64, uint64_t paddr, uint32_t filesz, uint32_t memsz,
				uint64_t entry, int pvh, uint64_t pvh_entry, size_t *len)
{
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32, nph = pvh ? 2 : 1;
	size_t note_off = ehsz + nph * phsz, note_len = pvh ? 20 : 0;
	size_t data_off = 0x1000;
	*len = data_off + filesz;
	uint8_t *b = calloc(1, *len);
	memcpy(b, "\177ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	w16(b + 16, 2);
	w16(b + 18, is64 ? 62 : 3);
	w32(b + 20, 1);
	if (is64) {
		w64(b + 24, entry);
		w64(b + 32, ehsz);
		w16(b + 54, (uint16_t)phsz);
		w16(b + 56, (uint16_t)nph);
	} else {
		w32(b + 24, (uint32_t)entry);
		w32(b + 28, (uint32_t)ehsz);
		w16(b + 42, (uint16_t)phsz);
		w16(b + 44, (uint16_t)nph);
	}
	uint8_t *ph = b + ehsz;
	w32(ph, 1); /* PT_LOAD */
	if (is64) {
		w64(ph + 8, data_off);
		w64(ph + 16, paddr);
		w64(ph + 24, paddr);
		w64(ph + 32, filesz);
		w64(ph + 40, memsz);
	} else {
		w32(ph + 4, (uint32_t)data_off);
		w32(ph + 8, (uint32_t)paddr);
		w32(ph + 12, (uint32_t)paddr);
		w32(ph + 16, filesz);
		w32(ph + 20, memsz);
	}
	if (pvh) {
		ph += phsz;
		w32(ph, 4); /* PT_NOTE */
		if (is64) {
			w64(ph + 8, note_off);
			w64(ph + 32, note_len);
		} else {
			w32(ph + 4, (uint32_t)note_off);
			w32(ph + 16, (uint32_t)note_len);
		}
		uint8_t *n = b + note_off;
		w32(n, 4);
		w32(n + 4, 4);
		w32(n + 8, 18);
		memcpy(n + 12, "Xen", 4);
		w32(n + 16, (uint32_t)pvh_entry);
	}
	for (size_t i = data_off; i < *len; i++)
		b[i] = (uint8_t)(i * 7);
	return b;
}

#endif

/* ELF kernel probing: PT_LOAD segments at p_paddr, PVH note or e_entry. */
#include "loader.h"

#include "layout.h"
#include "le.h"

#include <stdio.h>
#include <string.h>

#define PT_LOAD 1
#define PT_NOTE 4
#define EM_386 3
#define EM_X86_64 62
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ELF_MAX_PHDRS 64
#define LINUX_CMDLINE_MAX 2047

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, int is64, struct phdr *ph)
{
	ph->type = (uint32_t)get_le(p, 4);
	if (is64) {
		ph->offset = get_le(p + 8, 8);
		ph->paddr = get_le(p + 24, 8);
		ph->filesz = get_le(p + 32, 8);
		ph->memsz = get_le(p + 40, 8);
	} else {
		ph->offset = get_le(p + 4, 4);
		ph->paddr = get_le(p + 12, 4);
		ph->filesz = get_le(p + 16, 4);
		ph->memsz = get_le(p + 20, 4);
	}
}

/* Look for the Xen PVH entry note in one PT_NOTE segment; 1 if found. */
static int find_pvh_note(const uint8_t *n, uint64_t size, uint64_t *entry)
{
	uint64_t pos = 0;
	while (size - pos >= 12) {
		uint64_t namesz = get_le(n + pos, 4), descsz = get_le(n + pos + 4, 4);
		uint32_t type = (uint32_t)get_le(n + pos + 8, 4);
		uint64_t name = pos + 12;
		uint64_t desc = name + ((namesz + 3) & ~3ull);
		uint64_t next = desc + ((descsz + 3) & ~3ull);
		if (next > size || next <= pos)
			return 0;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(n + name, "Xen", 4) == 0 && (descsz == 4 || descsz == 8)) {
			*entry = get_le(n + desc, 4); /* older kernels pad it to 8 bytes */
			return 1;
		}
		pos = next;
	}
	return 0;
}

static int add_segment(struct kernel_image *img, const struct phdr *ph, size_t len, char *err,
		       size_t errlen)
{
	if (ph->filesz > ph->memsz || ph->offset > len || ph->filesz > len - ph->offset) {
		snprintf(err, errlen,
			 "ELF truncated or corrupt: segment at file offset 0x%llx with %llu bytes, "
			 "file has %zu",
			 (unsigned long long)ph->offset, (unsigned long long)ph->filesz, len);
		return -1;
	}
	if (ph->paddr < BOOT_HIMEM || ph->paddr + ph->memsz < ph->paddr) {
		snprintf(err, errlen,
			 "ELF segment at physical 0x%llx (%llu bytes) must lie above 1 MiB",
			 (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
		return -1;
	}
	if (img->nseg == KERNEL_MAX_SEGMENTS) {
		snprintf(err, errlen, "ELF has more than %d loadable segments",
			 KERNEL_MAX_SEGMENTS);
		return -1;
	}
	img->seg[img->nseg++] = (struct load_segment){ph->offset, ph->filesz, ph->paddr, ph->memsz};
	if (ph->paddr + ph->memsz > img->load_end)
		img->load_end = ph->paddr + ph->memsz;
	return 0;
}

static int entry_in_segment(const struct kernel_image *img, uint64_t entry)
{
	for (int i = 0; i < img->nseg; i++)
		if (entry >= img->seg[i].gpa && entry - img->seg[i].gpa < img->seg[i].mem_size)
			return 1;
	return 0;
}

int elf_probe(const uint8_t *image, size_t len, struct kernel_image *img, char *err, size_t errlen)
{
	if (len < 52 || (image[4] != 1 && image[4] != 2) || image[5] != 1 || image[6] != 1) {
		snprintf(err, errlen, "ELF header truncated or not little-endian ELF version 1");
		return -1;
	}
	int is64 = image[4] == 2;
	if (is64 && len < 64) {
		snprintf(err, errlen, "ELF64 header truncated (%zu bytes)", len);
		return -1;
	}
	uint16_t type = (uint16_t)get_le(image + 16, 2), machine = (uint16_t)get_le(image + 18, 2);
	if (type != 2 || machine != (is64 ? EM_X86_64 : EM_386)) {
		snprintf(err, errlen, "ELF is not an x86 executable (type %u, machine %u)", type,
			 machine);
		return -1;
	}
	uint64_t entry = is64 ? get_le(image + 24, 8) : get_le(image + 24, 4);
	uint64_t phoff = is64 ? get_le(image + 32, 8) : get_le(image + 28, 4);
	uint64_t phentsize = get_le(image + (is64 ? 54 : 42), 2);
	uint64_t phnum = get_le(image + (is64 ? 56 : 44), 2);
	if (phentsize != (is64 ? 56u : 32u) || phnum == 0 || phnum > ELF_MAX_PHDRS || phoff > len ||
	    phnum * phentsize > len - phoff) {
		snprintf(
		    err, errlen,
		    "ELF program headers out of range or malformed (offset 0x%llx, %llu x %llu "
		    "bytes, file has %zu)",
		    (unsigned long long)phoff, (unsigned long long)phnum,
		    (unsigned long long)phentsize, len);
		return -1;
	}
	uint64_t pvh_entry = 0;
	int has_pvh = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr ph;
		read_phdr(image + phoff + i * phentsize, is64, &ph);
		if (ph.type == PT_LOAD && ph.memsz) {
			if (add_segment(img, &ph, len, err, errlen))
				return -1;
		} else if (ph.type == PT_NOTE && !has_pvh && ph.offset <= len &&
			   ph.filesz <= len - ph.offset) {
			has_pvh = find_pvh_note(image + ph.offset, ph.filesz, &pvh_entry);
		}
	}
	if (!img->nseg) {
		snprintf(err, errlen, "ELF has no loadable segment");
		return -1;
	}
	img->kind = has_pvh ? KERNEL_ELF_PVH : is64 ? KERNEL_ELF64 : KERNEL_ELF32;
	img->mode = (is64 && !has_pvh) ? ENTRY_LONG64 : ENTRY_PROT32;
	img->entry = has_pvh ? pvh_entry : entry;
	if (!entry_in_segment(img, img->entry)) {
		snprintf(err, errlen, "ELF entry point 0x%llx is outside its loadable segments",
			 (unsigned long long)img->entry);
		return -1;
	}
	img->cmdline_max = LINUX_CMDLINE_MAX;
	return 0;
}

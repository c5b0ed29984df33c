/* Guest physical memory layout and checked translation of guest addresses. */
#include "memory.h"

#include <sys/mman.h>

void mem_layout(struct guest_mem *m, uint64_t size)
{
	m->size = size;
	m->low_size = size < MMIO_GAP_START ? size : MMIO_GAP_START;
	m->high_size = size - m->low_size;
}

int gpa_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	if (end < gpa)
		return 0;
	if (end <= m->low_size)
		return 1;
	return gpa >= MMIO_GAP_END && end - MMIO_GAP_END <= m->high_size;
}

void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!gpa_range_ok(m, gpa, len))
		return NULL;
	if (gpa < MMIO_GAP_END)
		return m->host + gpa;
	return m->host + m->low_size + (gpa - MMIO_GAP_END);
}

/*
 * Guest RAM starts on a 2 MiB boundary and asks for transparent huge pages:
 * KVM maps guest memory with 2 MiB pages only where guest and host addresses
 * agree modulo 2 MiB, and every 4 KiB first touch is otherwise its own
 * nested-paging fault (most of a Linux guest's boot time when the VMM itself
 * runs in a VM). The first 2 MiB (boot data, page tables, a tiny guest's
 * whole world) stays in small pages, so a small guest costs no 2 MiB of
 * zeroed RAM. The hints are advisory: without THP the RAM works the same.
 */
#define HUGE_PAGE (2ull << 20)

int mem_map_anonymous(struct guest_mem *m)
{
	size_t len = (size_t)m->size + HUGE_PAGE;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	size_t head = start - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (HUGE_PAGE - head)
		munmap((uint8_t *)start + m->size, HUGE_PAGE - head);
	m->host = (uint8_t *)start;
	if (m->size > HUGE_PAGE) {
		madvise(m->host, HUGE_PAGE, MADV_NOHUGEPAGE);
		madvise(m->host + HUGE_PAGE, m->size - HUGE_PAGE, MADV_HUGEPAGE);
	}
	return 0;
}

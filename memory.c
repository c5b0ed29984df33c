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

int mem_map_anonymous(struct guest_mem *m)
{
	void *p = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	m->host = p;
	return 0;
}

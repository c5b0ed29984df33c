/* The PIO/MMIO bus: range table with overlap checks and one unmapped path. */
#include "bus.h"

#include <string.h>

int bus_register(struct bus *b, uint64_t base, uint64_t len, void *dev,
		 const struct device_ops *ops)
{
	if (len == 0 || base + len < base || b->nranges >= BUS_MAX_RANGES)
		return -1;
	int i = 0;
	while (i < b->nranges && b->ranges[i].base < base)
		i++;
	if (i > 0) {
		const struct bus_range *p = &b->ranges[i - 1];
		if (p->base + p->len > base)
			return -1;
	}
	if (i < b->nranges && base + len > b->ranges[i].base)
		return -1;
	memmove(&b->ranges[i + 1], &b->ranges[i], (size_t)(b->nranges - i) * sizeof(b->ranges[0]));
	b->ranges[i] = (struct bus_range){base, len, dev, ops};
	b->nranges++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len)
{
	uint64_t end = addr + len;
	if (end < addr)
		return NULL;
	int lo = 0, hi = b->nranges;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct bus_range *r = &b->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr >= r->base + r->len)
			lo = mid + 1;
		else
			return end <= r->base + r->len ? r : NULL;
	}
	return NULL;
}

int bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write)
{
	const struct bus_range *r = bus_find(b, addr, len);
	if (!r) {
		if (!is_write)
			memset(data, b->unmapped_read, len);
		return 0;
	}
	if (is_write)
		r->ops->write(r->dev, addr - r->base, data, len);
	else
		r->ops->read(r->dev, addr - r->base, data, len);
	return 1;
}

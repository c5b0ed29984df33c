/* The PIO/MMIO bus: registration rules, lookup edges, offsets, unmapped accesses. */
#include "../../devices/bus.h"
#include "check.h"

#include <string.h>

struct rec {
	uint64_t off;
	uint32_t len;
	int writes, reads;
};

static void rec_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct rec *r = dev;
	r->off = off;
	r->len = len;
	r->reads++;
	memset(data, 0xab, len);
}

static void rec_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct rec *r = dev;
	(void)data;
	r->off = off;
	r->len = len;
	r->writes++;
}

static const struct device_ops rec_ops = {.name = "rec", .read = rec_read, .write = rec_write};

TEST(register_rejects_overlap_and_wrap)
{
	struct bus b = {.name = "t"};
	struct rec r = {0};
	CHECK(bus_register(&b, 0x100, 0x10, &r, &rec_ops) == 0);
	CHECK(bus_register(&b, 0x100, 0x10, &r, &rec_ops) < 0);	    /* same */
	CHECK(bus_register(&b, 0x0f8, 0x09, &r, &rec_ops) < 0);	    /* overlaps start */
	CHECK(bus_register(&b, 0x10f, 0x01, &r, &rec_ops) < 0);	    /* overlaps end */
	CHECK(bus_register(&b, 0x104, 0x04, &r, &rec_ops) < 0);	    /* inside */
	CHECK(bus_register(&b, 0x0f0, 0x40, &r, &rec_ops) < 0);	    /* around */
	CHECK(bus_register(&b, 0x0f0, 0x10, &r, &rec_ops) == 0);    /* touching below */
	CHECK(bus_register(&b, 0x110, 0x10, &r, &rec_ops) == 0);    /* touching above */
	CHECK(bus_register(&b, 0x200, 0, &r, &rec_ops) < 0);	    /* empty */
	CHECK(bus_register(&b, ~0ull - 4, 0x10, &r, &rec_ops) < 0); /* wraps */
	CHECK_EQ(b.nranges, 3);
	for (int i = 1; i < b.nranges; i++)
		CHECK(b.ranges[i - 1].base < b.ranges[i].base);
}

TEST(lookup_edges)
{
	struct bus b = {.name = "t"};
	struct rec r = {0};
	bus_register(&b, 0x1000, 0x100, &r, &rec_ops);
	CHECK(bus_find(&b, 0x1000, 4) != NULL);
	CHECK(bus_find(&b, 0x10fc, 4) != NULL);
	CHECK(bus_find(&b, 0x10fd, 4) == NULL); /* crosses the end */
	CHECK(bus_find(&b, 0x0fff, 1) == NULL);
	CHECK(bus_find(&b, 0x1100, 1) == NULL);
	CHECK(bus_find(&b, ~0ull, 8) == NULL); /* wraps */
}

TEST(access_gives_offsets_and_unmapped_fill)
{
	struct bus b = {.name = "t", .unmapped_read = 0xff};
	struct rec r = {0};
	uint8_t d[8];
	bus_register(&b, 0x3f8, 8, &r, &rec_ops);
	CHECK(bus_access(&b, 0x3fd, d, 1, 0) == 1);
	CHECK_EQ(r.off, 5);
	CHECK_EQ(d[0], 0xab);
	CHECK(bus_access(&b, 0x3f8, d, 1, 1) == 1);
	CHECK_EQ(r.writes, 1);
	memset(d, 0, sizeof(d));
	CHECK(bus_access(&b, 0x80, d, 4, 0) == 0);
	CHECK_EQ(d[0], 0xff);
	CHECK_EQ(d[3], 0xff);
	CHECK_EQ(d[4], 0);
	CHECK(bus_access(&b, 0x80, d, 1, 1) == 0); /* dropped quietly */
}

TEST(table_full)
{
	struct bus b = {.name = "t"};
	struct rec r = {0};
	for (int i = 0; i < BUS_MAX_RANGES; i++)
		CHECK(bus_register(&b, (uint64_t)i * 16, 16, &r, &rec_ops) == 0);
	CHECK(bus_register(&b, 0x100000, 16, &r, &rec_ops) < 0);
}

int main(void)
{
	check_suite = "unit/bus";
	RUN(register_rejects_overlap_and_wrap);
	RUN(lookup_edges);
	RUN(access_gives_offsets_and_unmapped_fill);
	RUN(table_full);
	return check_summary();
}

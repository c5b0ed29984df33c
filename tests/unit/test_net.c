/*
 * virtio-net without a VM or a tap: MAC parsing, the config space the driver
 * reads, and the snapshot round trip through the transport (the device's own
 * state, its MAC, rides in the virtio-mmio unit with its own version).
 */
#include "../../devices/virtio/net.h"
#include "../../snapshot/unit.h"
#include "check.h"

#include <string.h>

TEST(net_mac_parsing)
{
	uint8_t m[6];
	CHECK(net_parse_mac("02:12:34:56:78:9a", m) == 0);
	CHECK_EQ(m[0], 0x02);
	CHECK_EQ(m[5], 0x9a);
	CHECK(net_parse_mac("02:12:34:56:78:9A", m) == 0);
	CHECK(net_parse_mac("01:00:00:00:00:01", m) < 0); /* multicast */
	CHECK(net_parse_mac("00:00:00:00:00:00", m) < 0);
	CHECK(net_parse_mac("02:12:34:56:78", m) < 0);
	CHECK(net_parse_mac("02:12:34:56:78:9a:", m) < 0);
	CHECK(net_parse_mac("02-12-34-56-78-9a", m) < 0);
	CHECK(net_parse_mac("02:12:34:56:78:9g", m) < 0);
	CHECK(net_parse_mac("2:012:34:56:78:9a", m) < 0);
	CHECK(net_parse_mac("", m) < 0);
}

static const struct machine_hooks hooks;
static uint8_t ram[1 << 16];
static struct guest_mem mem = {.host = ram, .size = sizeof(ram), .low_size = sizeof(ram)};

static uint32_t rd32(struct virtio_net *n, uint64_t off)
{
	uint8_t b[4];
	virtio_mmio_ops.read(&n->dev, off, b, 4);
	return (uint32_t)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24);
}

static void make(struct virtio_net *n, uint8_t last)
{
	memset(n, 0, sizeof(*n));
	virtio_init(&n->dev, &virtio_net_ops, NULL, 1ull << 5, &hooks, &mem, 0xd0001000, 5, 0);
	const uint8_t mac[6] = {2, 0, 0, 0, 0, last};
	memcpy(n->be.mac, mac, 6);
	n->be.fd = -1;
}

static struct virtio_net a, b;

TEST(net_config_space)
{
	make(&a, 7);
	CHECK_EQ(rd32(&a, 0x008), 1); /* device id: network */
	CHECK_EQ(rd32(&a, 0x100), 0x00000002);
	CHECK_EQ(rd32(&a, 0x104), 0x00010700); /* mac[4..5], status LINK_UP */
	uint8_t one;
	virtio_mmio_ops.read(&a.dev, 0x105, &one, 1);
	CHECK_EQ(one, 7);
	CHECK_EQ(rd32(&a, 0x108), 0); /* nothing beyond status */
}

TEST(net_round_trip)
{
	make(&a, 7);
	make(&b, 9);
	struct unit_writer w1 = {0}, w2 = {0};
	virtio_mmio_ops.save(&a.dev, &w1);
	struct unit_reader t = {w1.buf, w1.len - 1, 0, 0};
	CHECK(virtio_mmio_ops.load(&b.dev, &t, 1) < 0); /* truncated */
	struct unit_reader r = {w1.buf, w1.len, 0, 0};
	CHECK(virtio_mmio_ops.load(&b.dev, &r, 1) == 0);
	CHECK_EQ(b.be.mac[5], 7); /* the guest keeps the MAC it saw */
	virtio_mmio_ops.save(&b.dev, &w2);
	CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	/* An unknown version of the device's own state is refused. */
	w1.buf[w1.len - 10] = 2;
	struct unit_reader v = {w1.buf, w1.len, 0, 0};
	CHECK(virtio_mmio_ops.load(&b.dev, &v, 1) < 0);
	uw_free(&w1);
	uw_free(&w2);
}

int main(void)
{
	check_suite = "unit/net";
	RUN(net_mac_parsing);
	RUN(net_config_space);
	RUN(net_round_trip);
	return check_summary();
}

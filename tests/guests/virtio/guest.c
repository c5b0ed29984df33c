/*
 * A minimal virtio-mmio driver that can also misbehave on purpose. The
 * command line picks test=NAME. Good paths: blk read/write/flush/get-id with
 * direct or indirect descriptors, rng. Bad paths each break one rule; the
 * guest then checks that the device reports DEVICE_NEEDS_RESET, that another
 * device (rng) still works, and that a reset brings the disk back.
 */
#include "../lib/guest.h"

#define VIRTIO0 0xd0001000u
#define STRIDE 0x1000u
#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4
#define R_CONFIG 0x100

#define QN 8
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct queue {
	uint32_t base;
	volatile struct desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[QN], used_event */
	volatile uint32_t *used;  /* flags|idx, then {id, len} pairs */
	uint16_t next_avail, seen_used;
	uint32_t sel; /* its queue index */
};

static const char *cmdline;
static struct queue qs[8]; /* device i: queue 0 in qs[i], queue 1 in qs[4 + i] */

static uint32_t rd(uint32_t base, uint32_t off)
{
	return mmio_read32(base + off);
}

static void wr(uint32_t base, uint32_t off, uint32_t v)
{
	mmio_write32(base + off, v);
}

static int test_is(const char *name)
{
	int n = 0;
	while (name[n])
		n++;
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && streq_prefix(p, "test=") &&
		    streq_prefix(p + 5, name) && (p[5 + n] == ' ' || p[5 + n] == 0))
			return 1;
	return 0;
}

/* 1 when the command line has test=PREFIX... */
static int test_prefix(const char *prefix)
{
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && streq_prefix(p, "test=") &&
		    streq_prefix(p + 5, prefix))
			return 1;
	return 0;
}

/* Find the virtio device with this id; its index is also its ring area. */
static uint32_t find(uint32_t id, int *idx)
{
	for (int i = 0; i < 4; i++) {
		uint32_t b = VIRTIO0 + STRIDE * (uint32_t)i;
		if (rd(b, R_MAGIC) == 0x74726976 && rd(b, R_DEVICE_ID) == id) {
			*idx = i;
			return b;
		}
	}
	fail("virtio device not found");
}

static void setup_queue(struct queue *q, uint32_t base, uint32_t sel, uint32_t ring)
{
	q->base = base;
	q->sel = sel;
	q->desc = (volatile struct desc *)(uintptr_t)ring;
	q->avail = (volatile uint16_t *)(uintptr_t)(ring + 0x1000);
	q->used = (volatile uint32_t *)(uintptr_t)(ring + 0x2000);
	q->next_avail = q->seen_used = 0;
	for (int k = 0; k < 0x3000; k++)
		((volatile uint8_t *)(uintptr_t)ring)[k] = 0;
	wr(base, R_QUEUE_SEL, sel);
	if (rd(base, R_QUEUE_READY) != 0 || rd(base, R_QUEUE_NUM_MAX) < QN)
		fail("queue not available");
	wr(base, R_QUEUE_NUM, QN);
	wr(base, R_DESC_LO, ring);
	wr(base, R_DESC_HI, 0);
	wr(base, R_AVAIL_LO, ring + 0x1000);
	wr(base, R_AVAIL_HI, 0);
	wr(base, R_USED_LO, ring + 0x2000);
	wr(base, R_USED_HI, 0);
	wr(base, R_QUEUE_READY, 1);
}

/* Reset device i at base, negotiate VERSION_1 plus extra_features, set up nq queues. */
static void setup_n(int i, uint32_t base, uint64_t extra_features, int nq)
{
	uint32_t ring = 0x400000u + 0x10000u * (uint32_t)i;
	wr(base, R_STATUS, 0);
	wr(base, R_STATUS, 1);
	wr(base, R_STATUS, 3);
	wr(base, R_DEV_FEAT_SEL, 1);
	if (!(rd(base, R_DEV_FEAT) & 1))
		fail("VERSION_1 not offered");
	wr(base, R_DRV_FEAT_SEL, 0);
	wr(base, R_DRV_FEAT, (uint32_t)extra_features);
	wr(base, R_DRV_FEAT_SEL, 1);
	wr(base, R_DRV_FEAT, 1); /* VERSION_1 */
	wr(base, R_STATUS, 11);
	if (!(rd(base, R_STATUS) & 8))
		fail("FEATURES_OK refused");
	setup_queue(&qs[i], base, 0, ring);
	if (nq > 1)
		setup_queue(&qs[4 + i], base, 1, ring + 0x4000);
	wr(base, R_STATUS, 15);
}

static void setup(int i, uint32_t base, uint64_t extra_features)
{
	setup_n(i, base, extra_features, 1);
}

/* Make head available and notify, without waiting. */
static void offer(struct queue *q, uint16_t head)
{
	q->avail[2 + q->next_avail % QN] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->avail[1] = ++q->next_avail;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(q->base, R_QUEUE_NOTIFY, q->sel);
}

/* Offer head to the device; returns the used length, or -1 on timeout. */
static int64_t submit(struct queue *q, uint16_t head)
{
	offer(q, head);
	uint64_t deadline = host_time_ns() + 2000000000ull;
	while ((uint16_t)(q->used[0] >> 16) == q->seen_used) {
		if (host_time_ns() > deadline)
			return -1;
	}
	uint32_t slot = q->seen_used % QN;
	q->seen_used++;
	wr(q->base, R_INT_ACK, rd(q->base, R_INT_STATUS));
	return q->used[1 + 2 * slot + 1];
}

static uint8_t *const hdr = (uint8_t *)0x500000;
static uint8_t *const data = (uint8_t *)0x501000;
static uint8_t *const status = (uint8_t *)0x503000;
static volatile struct desc *const itable = (volatile struct desc *)0x504000;

static void set_desc(volatile struct desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* One blk request of type on sector; len data bytes (0: none). */
static int64_t blk(struct queue *q, uint32_t type, uint64_t sector, uint32_t len, int indirect)
{
	*(uint32_t *)hdr = type;
	*(uint32_t *)(hdr + 4) = 0;
	*(uint64_t *)(hdr + 8) = sector;
	*status = 0xaa;
	volatile struct desc *t = indirect ? itable : q->desc;
	uint16_t dw = (type == 0 || type == 8) ? F_WRITE : 0;
	set_desc(&t[0], (uintptr_t)hdr, 16, F_NEXT, 1);
	if (len) {
		set_desc(&t[1], (uintptr_t)data, len, F_NEXT | dw, 2);
		set_desc(&t[2], (uintptr_t)status, 1, F_WRITE, 0);
	} else {
		set_desc(&t[1], (uintptr_t)status, 1, F_WRITE, 0);
	}
	if (indirect)
		set_desc(&q->desc[0], (uintptr_t)itable, len ? 48 : 32, F_INDIRECT, 0);
	return submit(q, 0);
}

static void expect_status(uint8_t want, const char *what)
{
	if (*status != want) {
		puts_("status ");
		putdec(*status);
		puts_(" for ");
		fail(what);
	}
}

static void rng_works(void)
{
	int ri;
	uint32_t rb = find(4, &ri);
	setup(ri, rb, 0);
	for (int k = 0; k < 64; k++)
		data[k] = 0;
	set_desc(&qs[ri].desc[0], (uintptr_t)data, 64, F_WRITE, 0);
	int64_t n = submit(&qs[ri], 0);
	int nonzero = 0;
	for (int k = 0; k < 64; k++)
		nonzero += data[k] != 0;
	if (n <= 0 || nonzero < 32)
		fail("rng gave no entropy");
	puts_("rng ok: ");
	putdec((uint32_t)n);
	puts_(" bytes\n");
}

static void good_blk(int indirect)
{
	int bi;
	uint32_t b = find(2, &bi);
	setup(bi, b, indirect ? (1u << 28) : 0);
	struct queue *q = &qs[bi];
	uint32_t cap = rd(b, R_CONFIG);
	puts_("capacity ");
	putdec(cap);
	putch('\n');
	if (blk(q, 0, 0, 512, indirect) != 513)
		fail("read used length");
	expect_status(0, "read");
	puts_("sector 0: ");
	for (int k = 0; k < 8; k++)
		putch((char)data[k]);
	putch('\n');
	for (int k = 0; k < 1024; k++)
		data[k] = (uint8_t)('A' + k % 26);
	blk(q, 1, 2, 1024, indirect);
	puts_("write status ");
	putdec(*status);
	putch('\n');
	for (int k = 0; k < 1024; k++)
		data[k] = 0;
	blk(q, 0, 2, 1024, indirect);
	expect_status(0, "read back");
	puts_("read back: ");
	for (int k = 0; k < 4; k++)
		putch((char)data[k]);
	putch('\n');
	blk(q, 4, 0, 0, indirect);
	expect_status(0, "flush");
	blk(q, 8, 0, 20, indirect);
	expect_status(0, "get-id");
	puts_("serial: ");
	for (int k = 0; k < 20 && data[k]; k++)
		putch((char)data[k]);
	putch('\n');
	blk(q, 0, cap, 512, indirect); /* past the end */
	expect_status(1, "read past the end");
	blk(q, 99, 0, 0, indirect);
	expect_status(2, "unknown request type");
}

/* Break one rule, then check NEEDS_RESET, rng, and recovery after a reset. */
static void hostile(void)
{
	int bi;
	uint32_t b = find(2, &bi);
	setup(bi, b, 1u << 28);
	struct queue *q = &qs[bi];
	int done = 1;
	set_desc(&q->desc[0], (uintptr_t)hdr, 16, F_NEXT, 1);
	set_desc(&q->desc[1], (uintptr_t)data, 512, F_NEXT | F_WRITE, 2);
	set_desc(&q->desc[2], (uintptr_t)status, 1, F_WRITE, 0);
	*(uint32_t *)hdr = 0;
	*(uint64_t *)(hdr + 8) = 0;
	if (test_is("loop")) {
		q->desc[2].flags = F_WRITE | F_NEXT;
		q->desc[2].next = 0;
	} else if (test_is("long")) {
		for (int k = 0; k < QN; k++)
			set_desc(&q->desc[k], (uintptr_t)status, 1, F_WRITE | F_NEXT,
				 (uint16_t)((k + 1) % QN));
	} else if (test_is("outside")) {
		q->desc[1].addr = 0x40000000000ull;
	} else if (test_is("wrap")) {
		q->desc[1].addr = 0xfffffffffffff000ull;
		q->desc[1].len = 0x2000;
	} else if (test_is("readonly")) {
		q->desc[1].flags = F_NEXT; /* read's data in a device-readable buffer */
	} else if (test_is("noheader")) {
		set_desc(&q->desc[0], (uintptr_t)status, 1, F_WRITE, 0);
	} else if (test_is("nostatus")) {
		q->desc[0].flags = 0;
	} else if (test_is("badnext")) {
		q->desc[1].next = 200;
	} else if (test_is("badhead")) {
		q->avail[2] = 77;
		q->avail[1] = ++q->next_avail;
		wr(b, R_QUEUE_NOTIFY, 0);
		done = 0;
	} else if (test_is("jump")) {
		q->avail[1] = (uint16_t)(q->next_avail + 100);
		wr(b, R_QUEUE_NOTIFY, 0);
		done = 0;
	} else if (test_is("nested")) {
		set_desc(&itable[0], (uintptr_t)itable, 16, F_INDIRECT, 0);
		set_desc(&q->desc[0], (uintptr_t)itable, 16, F_INDIRECT, 0);
	} else if (test_is("indnext")) {
		set_desc(&q->desc[0], (uintptr_t)itable, 16, F_INDIRECT | F_NEXT, 1);
	} else if (test_is("indloop")) {
		set_desc(&itable[0], (uintptr_t)hdr, 16, F_NEXT, 1);
		set_desc(&itable[1], (uintptr_t)status, 1, F_WRITE | F_NEXT, 0);
		set_desc(&q->desc[0], (uintptr_t)itable, 32, F_INDIRECT, 0);
	} else if (test_is("badring")) {
		wr(b, R_STATUS, 0);
		wr(b, R_STATUS, 3);
		wr(b, R_DRV_FEAT_SEL, 1);
		wr(b, R_DRV_FEAT, 1);
		wr(b, R_STATUS, 11);
		wr(b, R_QUEUE_NUM, QN);
		wr(b, R_DESC_LO, 0xfffff000);
		wr(b, R_DESC_HI, 0x7);
		wr(b, R_QUEUE_READY, 1);
		done = 0;
	} else {
		fail("unknown test=");
	}
	if (done)
		submit(q, 0); /* no answer expected */
	uint64_t deadline = host_time_ns() + 2000000000ull;
	while (!(rd(b, R_STATUS) & 64))
		if (host_time_ns() > deadline)
			fail("device never set DEVICE_NEEDS_RESET");
	puts_("needs reset\n");
	rng_works();
	good_blk(0); /* reset and reinitialise: the disk works again */
	puts_("recovered\n");
}

/* ---- virtio-net: a frame exchange with the host over the tap, and bad chains ---- */

#define NET_RXB 0x600000u /* four 4 KiB receive buffers */
#define NET_TXB 0x610000u /* transmit header, then the frame */
#define NET_F_CSUM 1u
#define NET_F_MAC (1u << 5)
#define NET_F_MRG_RXBUF (1u << 15)
static const uint8_t my_ip[4] = {10, 9, 9, 2};
static uint8_t my_mac[6];

static void put_mac(const uint8_t *m)
{
	for (int k = 0; k < 6; k++) {
		putch("0123456789abcdef"[m[k] >> 4]);
		putch("0123456789abcdef"[m[k] & 15]);
		if (k < 5)
			putch(':');
	}
}

static void copy(uint8_t *d, const volatile uint8_t *s, int n)
{
	for (int k = 0; k < n; k++)
		d[k] = s[k];
}

/* Transmit len frame bytes at NET_TXB + 12 behind a zero header, as two descriptors. */
static int64_t net_send(struct queue *tx, uint32_t len)
{
	uint8_t *h = (uint8_t *)(uintptr_t)NET_TXB;
	for (int k = 0; k < 12; k++)
		h[k] = 0;
	set_desc(&tx->desc[0], NET_TXB, 12, F_NEXT, 1);
	set_desc(&tx->desc[1], NET_TXB + 12, len, 0, 0);
	return submit(tx, 0);
}

/* Answer an ARP request for my_ip found in frame f. */
static void arp_reply(struct queue *tx, const uint8_t *f)
{
	uint8_t *r = (uint8_t *)(uintptr_t)(NET_TXB + 12);
	static const uint8_t head[10] = {8, 6, 0, 1, 8, 0, 6, 4, 0, 2};
	for (int k = 0; k < 60; k++)
		r[k] = 0;
	copy(r, f + 6, 6); /* to the asker */
	copy(r + 6, my_mac, 6);
	copy(r + 12, head, 10);
	copy(r + 22, my_mac, 6);
	copy(r + 28, my_ip, 4);
	copy(r + 32, f + 22, 6);
	copy(r + 38, f + 28, 4);
	if (net_send(tx, 60) != 0)
		fail("ARP reply not completed");
	puts_("tx arp reply\n");
}

/*
 * Receive from the host until an IPv4 frame arrives: the host's ARP request
 * for my_ip comes first, our reply (a transmit) lets the host send IPv4.
 */
static void good_net(int mrg)
{
	int ni;
	uint32_t b = find(1, &ni);
	setup_n(ni, b, NET_F_MAC | (mrg ? NET_F_MRG_RXBUF : 0), 2);
	struct queue *rx = &qs[ni], *tx = &qs[4 + ni];
	uint32_t w0 = rd(b, R_CONFIG), w1 = rd(b, R_CONFIG + 4);
	for (int k = 0; k < 4; k++)
		my_mac[k] = (uint8_t)(w0 >> (8 * k));
	my_mac[4] = (uint8_t)w1;
	my_mac[5] = (uint8_t)(w1 >> 8);
	puts_("mac ");
	put_mac(my_mac);
	puts_(" link ");
	putdec(w1 >> 16);
	putch('\n');
	for (uint16_t k = 0; k < 4; k++) {
		set_desc(&rx->desc[k], NET_RXB + 0x1000u * k, 0x1000, F_WRITE, 0);
		offer(rx, k);
	}
	puts_("net ready\n");
	uint64_t deadline = host_time_ns() + 20000000000ull;
	for (;;) {
		if (host_time_ns() > deadline)
			fail("no IPv4 frame from the host");
		if ((uint16_t)(rx->used[0] >> 16) == rx->seen_used)
			continue;
		uint32_t slot = rx->seen_used++ % QN;
		uint32_t id = rx->used[1 + 2 * slot], len = rx->used[2 + 2 * slot];
		if (id >= 4 || len < 12 + 14 || len > 0x1000)
			fail("receive: bad used entry");
		const uint8_t *h = (const uint8_t *)(uintptr_t)(NET_RXB + 0x1000u * id),
			      *f = h + 12;
		if ((h[10] | h[11] << 8) != 1)
			fail("receive: num_buffers is not 1");
		uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
		if (type == 0x0806 && f[21] == 1 && f[38] == my_ip[0] && f[39] == my_ip[1] &&
		    f[40] == my_ip[2] && f[41] == my_ip[3]) {
			puts_("rx arp request\n");
			arp_reply(tx, f);
		} else if (type == 0x0800) {
			for (int k = 0; k < 6; k++)
				if (f[k] != my_mac[k])
					fail("IPv4 frame not addressed to our MAC");
			puts_("rx ipv4 for our mac\n");
			return;
		}
		offer(rx, (uint16_t)id);
	}
}

/* Transmit for 3 s while the host deletes the tap: every frame still completes. */
static void lost_net(void)
{
	int ni;
	uint32_t b = find(1, &ni);
	setup_n(ni, b, NET_F_MAC, 2);
	struct queue *rx = &qs[ni], *tx = &qs[4 + ni];
	for (uint16_t k = 0; k < 4; k++) {
		set_desc(&rx->desc[k], NET_RXB + 0x1000u * k, 0x1000, F_WRITE, 0);
		offer(rx, k);
	}
	puts_("net ready\n");
	uint8_t *f = (uint8_t *)(uintptr_t)(NET_TXB + 12);
	uint64_t end = host_time_ns() + 3000000000ull;
	while (host_time_ns() < end) {
		for (int k = 0; k < 60; k++)
			f[k] = 0xff;
		if (net_send(tx, 60) != 0)
			fail("transmit not completed");
		delay_ms(100);
	}
	if (rd(b, R_STATUS) & 64)
		fail("the device needs a reset");
	puts_("transmits completed after the tap went away\n");
}

/* Break one rule on the net device; it must need a reset, then work again. */
static void hostile_net(void)
{
	int ni;
	uint32_t b = find(1, &ni);
	setup_n(ni, b, NET_F_MAC | (test_is("net-csumrange") ? NET_F_CSUM : 0), 2);
	struct queue *rx = &qs[ni], *tx = &qs[4 + ni], *q = tx;
	uint8_t *h = (uint8_t *)(uintptr_t)NET_TXB;
	for (int k = 0; k < 12 + 60; k++)
		h[k] = 0xff;
	for (int k = 0; k < 12; k++)
		h[k] = 0;
	set_desc(&tx->desc[0], NET_TXB, 12, F_NEXT, 1);
	set_desc(&tx->desc[1], NET_TXB + 12, 60, 0, 0);
	if (test_is("net-writable")) {
		tx->desc[1].flags = F_WRITE;
	} else if (test_is("net-short")) {
		set_desc(&tx->desc[0], NET_TXB, 6, 0, 0);
	} else if (test_is("net-gso")) {
		h[1] = 1; /* TCPv4 segmentation, not negotiated */
		h[4] = 0x78;
		h[5] = 0x05;
	} else if (test_is("net-csum")) {
		h[0] = 1; /* checksum offload, not negotiated */
		h[6] = 34;
		h[8] = 16;
	} else if (test_is("net-csumrange")) {
		h[0] = 1;
		h[6] = 100; /* beyond the 60-byte frame */
	} else if (test_is("net-flags")) {
		h[0] = 0x40;
	} else if (test_is("net-huge")) {
		set_desc(&tx->desc[1], NET_RXB, 0x10000, F_NEXT, 2);
		set_desc(&tx->desc[2], NET_RXB, 0x10000, 0, 0);
	} else if (test_is("net-loop")) {
		tx->desc[1].flags = F_NEXT;
		tx->desc[1].next = 0;
	} else if (test_is("net-rxread")) {
		set_desc(&rx->desc[0], NET_RXB, 0x1000, 0, 0);
		q = rx;
	} else if (test_is("net-rxshort")) {
		set_desc(&rx->desc[0], NET_RXB, 4, F_WRITE, 0);
		q = rx;
	} else {
		fail("unknown test=net-");
	}
	offer(q, 0);
	uint64_t deadline = host_time_ns() + 2000000000ull;
	while (!(rd(b, R_STATUS) & 64))
		if (host_time_ns() > deadline)
			fail("device never set DEVICE_NEEDS_RESET");
	puts_("needs reset\n");
	rng_works();
	setup_n(ni, b, NET_F_MAC, 2);
	for (int k = 0; k < 60; k++)
		h[12 + k] = 0xff;
	if (net_send(&qs[4 + ni], 60) != 0)
		fail("transmit after the reset not completed");
	puts_("recovered\n");
}

void guest_main(const uint8_t *bp)
{
	cmdline = (const char *)(uintptr_t) * (const uint32_t *)(bp + 0x228);
	if (test_is("blk")) {
		good_blk(0);
	} else if (test_is("blk-indirect")) {
		good_blk(1);
	} else if (test_is("rng")) {
		rng_works();
	} else if (test_is("net") || test_is("net-mrg")) {
		good_net(test_is("net-mrg"));
	} else if (test_is("net-lost")) {
		lost_net();
	} else if (test_prefix("net-")) {
		hostile_net();
	} else {
		hostile();
	}
	puts_("virtio ok\n");
	guest_exit(0);
}

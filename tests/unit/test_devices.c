/*
 * Device models driven directly, without a VM: serial, i8042, heartbeat, and
 * the snapshot round trip every device must pass (save, load, save again).
 */
#include "../../devices/i8042.h"
#include "../../devices/ib700.h"
#include "../../devices/pseudo/heartbeat.h"
#include "../../devices/serial.h"
#include "../../snapshot/unit.h"
#include "check.h"

#include <string.h>
#include <unistd.h>

/* A fake machine that records what devices asked of it. */
static struct {
	int irq[16];
	int irq_changes;
	int power_off_status, resets, ready, events;
	const char *last_event;
	uint64_t time;
} fake;

static void f_power_off(void *c, int s, const char *w)
{
	(void)c, (void)w;
	fake.power_off_status = s;
}
static void f_reset(void *c, const char *w)
{
	(void)c, (void)w;
	fake.resets++;
}
static void f_irq(void *c, uint32_t irq, int level)
{
	(void)c;
	fake.irq[irq] = level;
	fake.irq_changes++;
}
static void f_event(void *c, const char *n, const char *f)
{
	(void)c, (void)f;
	fake.events++;
	fake.last_event = n;
}
static void f_ready(void *c)
{
	(void)c;
	fake.ready++;
}
static uint64_t f_time(void *c)
{
	(void)c;
	return fake.time;
}
static int timers_changed;
static void f_timers(void *c)
{
	(void)c;
	timers_changed++;
}
static int f_ioeventfd(void *c, uint64_t a, uint32_t d, int fd)
{
	(void)c, (void)a, (void)d, (void)fd;
	return 0;
}
static int f_irqfd(void *c, uint32_t g, int fd)
{
	(void)c, (void)g, (void)fd;
	return 0;
}
static const struct machine_hooks hooks = {NULL,    f_power_off, f_reset,  f_irq,	f_event,
					   f_ready, f_time,	 f_timers, f_ioeventfd, f_irqfd};

static uint8_t rd8(void *dev, const struct device_ops *ops, uint64_t off)
{
	uint8_t v;
	ops->read(dev, off, &v, 1);
	return v;
}

static void wr8(void *dev, const struct device_ops *ops, uint64_t off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

static uint32_t rd32(void *dev, const struct device_ops *ops, uint64_t off)
{
	uint8_t d[4];
	ops->read(dev, off, d, 4);
	return (uint32_t)le_get(d, 4);
}

static void wr32(void *dev, const struct device_ops *ops, uint64_t off, uint32_t v)
{
	uint8_t d[4];
	le_put(d, 4, v);
	ops->write(dev, off, d, 4);
}

/*
 * save -> load into a fresh device -> save must give the same bytes; a
 * truncated unit and an unknown version are refused first.
 */
static int round_trip(void *a, void *b, const struct device_ops *ops)
{
	struct unit_writer w1 = {0}, w2 = {0};
	ops->save(a, &w1);
	int ok = 1;
	if (w1.len) {
		struct unit_reader t = {w1.buf, w1.len - 1, 0, 0};
		ok = ok && ops->load(b, &t, ops->version) < 0;
	}
	struct unit_reader v = {w1.buf, w1.len, 0, 0};
	ok = ok && ops->load(b, &v, ops->version + 1) < 0;
	struct unit_reader r = {w1.buf, w1.len, 0, 0};
	ok = ok && ops->load(b, &r, ops->version) == 0;
	ops->save(b, &w2);
	ok = ok && w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0;
	uw_free(&w1);
	uw_free(&w2);
	return ok;
}

TEST(serial_probe_like_linux)
{
	struct serial s;
	serial_init(&s, &hooks, 4, -1, -1);
	wr8(&s, &serial_ops, 7, 0x5a);
	CHECK_EQ(rd8(&s, &serial_ops, 7), 0x5a); /* scratch */
	wr8(&s, &serial_ops, 4, 0x1a);		 /* LOOP | OUT2 | RTS */
	CHECK_EQ(rd8(&s, &serial_ops, 6) & 0xf0, 0x90);
	wr8(&s, &serial_ops, 4, 0);
	wr8(&s, &serial_ops, 3, 0x80); /* DLAB */
	wr8(&s, &serial_ops, 0, 0x01);
	wr8(&s, &serial_ops, 1, 0x00);
	CHECK_EQ(rd8(&s, &serial_ops, 0), 0x01);
	wr8(&s, &serial_ops, 3, 0x03);
	wr8(&s, &serial_ops, 2, 0x07); /* FIFO on */
	CHECK_EQ(rd8(&s, &serial_ops, 2) & 0xc0, 0xc0);
	CHECK_EQ(rd8(&s, &serial_ops, 5) & 0x60, 0x60); /* THRE | TEMT */
}

TEST(serial_thri_and_irq)
{
	struct serial s;
	memset(&fake, 0, sizeof(fake));
	serial_init(&s, &hooks, 4, -1, -1);
	wr8(&s, &serial_ops, 1, 0x02); /* enable THRI: interrupt at once */
	CHECK_EQ(rd8(&s, &serial_ops, 2) & 0x0f, 0x02);
	CHECK_EQ(fake.irq[4], 0); /* reading IIR acknowledged it, line low again */
	CHECK_EQ(rd8(&s, &serial_ops, 2) & 0x0f, 0x01);
	wr8(&s, &serial_ops, 0, 'x');
	CHECK_EQ(fake.irq[4], 1);
	CHECK_EQ(rd8(&s, &serial_ops, 2) & 0x0f, 0x02);
	CHECK_EQ(fake.irq[4], 0);
}

TEST(serial_output_and_input)
{
	int p[2];
	CHECK(pipe(p) == 0);
	struct serial s;
	memset(&fake, 0, sizeof(fake));
	serial_init(&s, &hooks, 4, p[1], -1);
	wr8(&s, &serial_ops, 0, 'h');
	wr8(&s, &serial_ops, 0, 'i');
	char buf[4] = {0};
	CHECK(read(p[0], buf, 2) == 2);
	CHECK(strcmp(buf, "hi") == 0);
	wr8(&s, &serial_ops, 1, 0x01); /* receive interrupts */
	CHECK_EQ(serial_push_input(&s, (const uint8_t *)"ab", 2), 2);
	CHECK_EQ(fake.irq[4], 1);
	CHECK_EQ(rd8(&s, &serial_ops, 5) & 1, 1);
	CHECK_EQ(rd8(&s, &serial_ops, 2) & 0x0f, 0x04);
	CHECK_EQ(rd8(&s, &serial_ops, 0), 'a');
	CHECK_EQ(rd8(&s, &serial_ops, 0), 'b');
	CHECK_EQ(rd8(&s, &serial_ops, 5) & 1, 0);
	CHECK_EQ(fake.irq[4], 0);
	/* A full buffer takes no more and reports no space. */
	uint8_t big[SERIAL_RX_SIZE + 10];
	memset(big, 'z', sizeof(big));
	CHECK_EQ(serial_push_input(&s, big, sizeof(big)), SERIAL_RX_SIZE);
	CHECK_EQ(serial_rx_space(&s), 0);
	close(p[0]);
	close(p[1]);
}

TEST(serial_round_trip)
{
	struct serial a, b;
	serial_init(&a, &hooks, 4, -1, -1);
	serial_init(&b, &hooks, 4, -1, -1);
	wr8(&a, &serial_ops, 3, 0x1b);
	wr8(&a, &serial_ops, 7, 0x42);
	serial_push_input(&a, (const uint8_t *)"queued", 6);
	CHECK(round_trip(&a, &b, &serial_ops));
	CHECK_EQ(rd8(&b, &serial_ops, 7), 0x42);
	CHECK_EQ(rd8(&b, &serial_ops, 0), 'q');
}

TEST(i8042_probe_and_reset)
{
	struct i8042 k;
	memset(&fake, 0, sizeof(fake));
	i8042_init(&k, &hooks);
	CHECK_EQ(rd8(&k, &i8042_ops, 4) & 1, 0);
	wr8(&k, &i8042_ops, 4, 0xaa);
	CHECK_EQ(rd8(&k, &i8042_ops, 4) & 1, 1);
	CHECK_EQ(rd8(&k, &i8042_ops, 0), 0x55);
	wr8(&k, &i8042_ops, 4, 0x60); /* write command byte */
	wr8(&k, &i8042_ops, 0, 0x44);
	wr8(&k, &i8042_ops, 4, 0x20);
	CHECK_EQ(rd8(&k, &i8042_ops, 0), 0x44);
	wr8(&k, &i8042_ops, 0, 0xff); /* keyboard reset */
	CHECK_EQ(rd8(&k, &i8042_ops, 0), 0xfa);
	CHECK_EQ(rd8(&k, &i8042_ops, 0), 0xaa);
	wr8(&k, &i8042_ops, 4, 0x60);
	wr8(&k, &i8042_ops, 0, 0x45); /* keyboard interrupt on */
	uint8_t cad[] = {0x1d, 0x38, 0xe0, 0x53};
	i8042_send_scancodes(&k, cad, 4);
	CHECK_EQ(fake.irq[1], 1);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(rd8(&k, &i8042_ops, 0), cad[i]);
	CHECK_EQ(fake.irq[1], 0);
	CHECK_EQ(fake.resets, 0);
	wr8(&k, &i8042_ops, 4, 0xfe);
	CHECK_EQ(fake.resets, 1);
	wr8(&k, &i8042_ops, 4, 0xd1);
	wr8(&k, &i8042_ops, 0, 0xfe); /* output port with the reset line low */
	CHECK_EQ(fake.resets, 2);
}

TEST(i8042_one_edge_per_byte)
{
	/* Linux takes one byte per IRQ 1: every queued byte needs its own rising edge. */
	struct i8042 k;
	memset(&fake, 0, sizeof(fake));
	i8042_init(&k, &hooks);
	wr8(&k, &i8042_ops, 0, 0xf2); /* identify: FA AB 83 */
	int rises = fake.irq[1];
	for (int i = 0; i < 3; i++) {
		int before = fake.irq_changes;
		rd8(&k, &i8042_ops, 0);
		if (i < 2)
			CHECK_EQ(fake.irq_changes - before, 2); /* low, then high again */
		rises += fake.irq[1];
	}
	CHECK_EQ(rises, 3);
	CHECK_EQ(fake.irq[1], 0);
}

TEST(i8042_round_trip)
{
	struct i8042 a, b;
	i8042_init(&a, &hooks);
	i8042_init(&b, &hooks);
	wr8(&a, &i8042_ops, 4, 0xaa);
	wr8(&a, &i8042_ops, 4, 0x60);
	CHECK(round_trip(&a, &b, &i8042_ops));
	CHECK_EQ(rd8(&b, &i8042_ops, 0), 0x55);
}

TEST(heartbeat_registers)
{
	struct heartbeat hb;
	memset(&fake, 0, sizeof(fake));
	heartbeat_init(&hb, &hooks, 500, 1000);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x00), 0x31544248);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x04), 1);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x08), 500);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x0c), 1000);
	uint64_t s1 = rd32(&hb, &heartbeat_ops, 0x24) | (uint64_t)rd32(&hb, &heartbeat_ops, 0x28)
							    << 32;
	CHECK(s1 != 0);
	heartbeat_new_session(&hb);
	uint64_t s2 = rd32(&hb, &heartbeat_ops, 0x24) | (uint64_t)rd32(&hb, &heartbeat_ops, 0x28)
							    << 32;
	CHECK(s1 != s2);
	uint32_t lo = rd32(&hb, &heartbeat_ops, 0x2c), hi = rd32(&hb, &heartbeat_ops, 0x30);
	CHECK(hi > 0x15e00000u); /* after 2020 */
	(void)lo;
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x34), 0);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0xffc), 0);
	CHECK_EQ(rd8(&hb, &heartbeat_ops, 0x01), 0x42); /* byte 1 of MAGIC */
	wr32(&hb, &heartbeat_ops, 0x10, 1);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x18), 1); /* ACTIVE */
	wr32(&hb, &heartbeat_ops, 0x1c, 1);
	CHECK_EQ(fake.ready, 1);
	wr8(&hb, &heartbeat_ops, 0x20, 9); /* narrow writes are ignored */
	CHECK_EQ(fake.power_off_status, 0);
	wr32(&hb, &heartbeat_ops, 0x20, 0x1234);
	CHECK_EQ(fake.power_off_status, 0x34);
}

TEST(heartbeat_round_trip)
{
	struct heartbeat a, b;
	heartbeat_init(&a, &hooks, 500, 1000);
	heartbeat_init(&b, &hooks, 500, 1000);
	fake.time = 5000000000ull;
	wr32(&a, &heartbeat_ops, 0x10, 1);
	fake.time += 300000000;
	CHECK(round_trip(&a, &b, &heartbeat_ops));
	CHECK_EQ(b.enabled, 1);
	CHECK_EQ(fake.time - b.last_beat, 300000000);
}

#define S 1000000000ull

TEST(ib700_every_period)
{
	struct ib700 w;
	ib700_init(&w, &hooks);
	fake.time = 100 * S;
	CHECK_EQ(ib700_next_deadline(&w), UINT64_MAX);
	for (uint8_t v = 0; v < 16; v++) {
		wr8(&w, &ib700_ops, 2, v); /* port 0x443 */
		CHECK_EQ(ib700_next_deadline(&w), fake.time + (30 - 2 * v) * S);
	}
	wr8(&w, &ib700_ops, 2, 0x1e); /* only the low nibble counts: 14 -> 2 s */
	CHECK_EQ(ib700_next_deadline(&w), fake.time + 2 * S);
	wr8(&w, &ib700_ops, 3, 0); /* 0x444 starts too (QEMU's port pair) */
	CHECK_EQ(ib700_next_deadline(&w), fake.time + 30 * S);
	CHECK_EQ(rd8(&w, &ib700_ops, 2), 0xff);
}

TEST(ib700_ping_stop_expire)
{
	struct ib700 w;
	ib700_init(&w, &hooks);
	fake.time = 0;
	timers_changed = 0;
	wr8(&w, &ib700_ops, 2, 14);
	CHECK(timers_changed > 0);
	fake.time = 1 * S + S / 2;
	CHECK(!ib700_expire(&w, fake.time));
	wr8(&w, &ib700_ops, 2, 14); /* ping: countdown restarts */
	fake.time = 3 * S;
	CHECK(!ib700_expire(&w, fake.time));
	fake.time = 3 * S + S / 2;
	CHECK(ib700_expire(&w, fake.time));
	CHECK(!ib700_expire(&w, fake.time + 100 * S)); /* one-shot */
	CHECK_EQ(ib700_next_deadline(&w), UINT64_MAX);
	wr8(&w, &ib700_ops, 2, 15); /* 0 s: due at once */
	CHECK(ib700_expire(&w, fake.time));
	wr8(&w, &ib700_ops, 2, 14);
	wr8(&w, &ib700_ops, 0, 0); /* 0x441 stops */
	CHECK(!ib700_expire(&w, fake.time + 100 * S));
	wr8(&w, &ib700_ops, 2, 14);
	wr8(&w, &ib700_ops, 1, 0); /* 0x442 stops too */
	CHECK_EQ(ib700_next_deadline(&w), UINT64_MAX);
	wr8(&w, &ib700_ops, 2, 14);
	ib700_ops.reset(&w); /* a machine reset disarms */
	CHECK_EQ(ib700_next_deadline(&w), UINT64_MAX);
}

TEST(ib700_round_trip_keeps_remaining_time)
{
	struct ib700 a, b;
	ib700_init(&a, &hooks);
	ib700_init(&b, &hooks);
	fake.time = 50 * S;
	wr8(&a, &ib700_ops, 2, 10); /* 10 s */
	fake.time += 4 * S;
	CHECK(round_trip(&a, &b, &ib700_ops));
	/* Restored later in guest time: 6 s remain from the load. */
	fake.time += 1000 * S;
	struct unit_writer w1 = {0};
	ib700_ops.save(&a, &w1);
	struct unit_reader r = {w1.buf, w1.len, 0, 0};
	CHECK(ib700_ops.load(&b, &r, 1) == 0);
	CHECK_EQ(ib700_next_deadline(&b), fake.time);
	uw_free(&w1);
	/* Impossible values are refused. */
	uint8_t bad[17] = {2};
	struct unit_reader rb = {bad, sizeof(bad), 0, 0};
	CHECK(ib700_ops.load(&b, &rb, 1) < 0);
}

TEST(heartbeat_flatline_and_recovery)
{
	struct heartbeat hb;
	memset(&fake, 0, sizeof(fake));
	heartbeat_init(&hb, &hooks, 200, 500);
	fake.time = 10 * S;
	CHECK_EQ(heartbeat_next_deadline(&hb), UINT64_MAX); /* not enabled */
	wr32(&hb, &heartbeat_ops, 0x10, 1);
	CHECK_EQ(heartbeat_next_deadline(&hb), fake.time + 500000000ull);
	fake.time += 400000000ull;
	wr32(&hb, &heartbeat_ops, 0x14, 1); /* beat */
	CHECK(!heartbeat_expire(&hb, fake.time + 499000000ull));
	CHECK(heartbeat_expire(&hb, fake.time + 500000000ull));
	CHECK(fake.last_event && strcmp(fake.last_event, "heartbeat-flatline") == 0);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x18), 3);	  /* ACTIVE | FLATLINED */
	CHECK(!heartbeat_expire(&hb, fake.time + 5 * S)); /* once per flatline */
	CHECK_EQ(heartbeat_next_deadline(&hb), UINT64_MAX);
	fake.time += 2 * S;
	wr32(&hb, &heartbeat_ops, 0x14, 1);
	CHECK(strcmp(fake.last_event, "heartbeat-recovered") == 0);
	CHECK_EQ(rd32(&hb, &heartbeat_ops, 0x18), 1);
	wr32(&hb, &heartbeat_ops, 0x10, 0); /* disarm */
	CHECK_EQ(heartbeat_next_deadline(&hb), UINT64_MAX);
	/* Without --heartbeat (timeout 0) enabling never flatlines. */
	struct heartbeat off;
	heartbeat_init(&off, &hooks, 0, 0);
	wr32(&off, &heartbeat_ops, 0x10, 1);
	CHECK(!heartbeat_expire(&off, fake.time + 1000 * S));
}

int main(void)
{
	check_suite = "unit/devices";
	RUN(serial_probe_like_linux);
	RUN(serial_thri_and_irq);
	RUN(serial_output_and_input);
	RUN(serial_round_trip);
	RUN(i8042_probe_and_reset);
	RUN(i8042_one_edge_per_byte);
	RUN(i8042_round_trip);
	RUN(heartbeat_registers);
	RUN(heartbeat_round_trip);
	RUN(ib700_every_period);
	RUN(ib700_ping_stop_expire);
	RUN(ib700_round_trip_keeps_remaining_time);
	RUN(heartbeat_flatline_and_recovery);
	return check_summary();
}

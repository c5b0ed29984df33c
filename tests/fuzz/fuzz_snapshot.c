/*
 * libFuzzer target: the snapshot file parser and the unit decoders. A mutated
 * file almost never keeps a valid integrity hash, so when the structure
 * checks pass and only the hash is wrong, the target writes the right hash
 * and parses again: the unit table and every unit decoder get fuzzed too.
 */
#include "../../devices/i8042.h"
#include "../../devices/ib700.h"
#include "../../devices/pseudo/heartbeat.h"
#include "../../devices/serial.h"
#include "../../devices/virtio/rng.h"
#include "../../log.h"
#include "../../snapshot/kvmstate.h"
#include "../../snapshot/snapshot.h"

#include <stdlib.h>
#include <string.h>

static void h_irq(void *c, uint32_t irq, int level)
{
	(void)c, (void)irq, (void)level;
}
static void h_event(void *c, const char *n, const char *f)
{
	(void)c, (void)n, (void)f;
}
static uint64_t h_time(void *c)
{
	(void)c;
	return 1000000000ull;
}
static void h_timers(void *c)
{
	(void)c;
}

static const struct machine_hooks hooks = {
    .irq_line = h_irq, .event = h_event, .guest_time_ns = h_time, .timers_changed = h_timers};

static void fix_hash(uint8_t *b, size_t len)
{
	if (len < SNAP_HEADER_SIZE)
		return;
	uint64_t usize = get_le(b + H_UNITS_SIZE, 8), fo = get_le(b + H_FOOTER_OFFSET, 8);
	uint64_t chunks = get_le(b + H_CHUNK_COUNT, 4);
	uint64_t covered = F_DIGESTS + DIGEST_LEN * chunks;
	if (usize > len - SNAP_HEADER_SIZE || fo > len || covered + DIGEST_LEN > len - fo)
		return;
	struct digest_sha256 d;
	digest_sha256_init(&d);
	digest_sha256_update(&d, b, SNAP_HEADER_SIZE + usize);
	digest_sha256_update(&d, b + fo, covered);
	digest_sha256_final(&d, b + fo + covered);
}

static void load_device(const struct device_ops *ops, void *dev, const struct snap_unit *u)
{
	struct unit_reader r = {u->data, u->length, 0, 0};
	ops->load(dev, &r, u->version);
}

static void decode_units(const struct snap_file *f)
{
	static struct serial serial;
	static struct i8042 kbd;
	static struct ib700 wdt;
	static struct heartbeat hb;
	char err[256];
	for (uint32_t i = 0; i < f->nunits; i++) {
		const struct snap_unit *u = &f->units[i];
		if (!strcmp(u->name, "machine")) {
			struct machine_unit m;
			machine_unit_decode(u->data, u->length, u->version, &m, err, sizeof(err));
		} else if (!strcmp(u->name, "vcpu")) {
			struct vcpu_state s;
			vcpu_state_decode(u->data, u->length, &s, err, sizeof(err));
			vcpu_state_free(&s);
		} else if (!strcmp(u->name, "vm")) {
			static struct vm_state s;
			vm_state_decode(u->data, u->length, &s, err, sizeof(err));
		} else if (!strcmp(u->name, "serial")) {
			serial_init(&serial, &hooks, 4, -1, -1);
			load_device(&serial_ops, &serial, u);
		} else if (!strcmp(u->name, "i8042")) {
			i8042_init(&kbd, &hooks);
			load_device(&i8042_ops, &kbd, u);
		} else if (!strcmp(u->name, "ib700")) {
			ib700_init(&wdt, &hooks);
			load_device(&ib700_ops, &wdt, u);
		} else if (!strcmp(u->name, "virtio-mmio")) {
			/* Set up once: the transport opens eventfds; load only checks and copies.
			 */
			static struct virtio_dev vd;
			static uint8_t ram[1 << 16];
			static struct guest_mem mem = {ram, sizeof(ram), sizeof(ram), 0};
			if (!vd.ops)
				virtio_init(&vd, &virtio_rng_ops, NULL, 0, &hooks, &mem, 0xd0001000,
					    5, 0);
			load_device(&virtio_mmio_ops, &vd, u);
		} else if (!strcmp(u->name, "heartbeat")) {
			heartbeat_init(&hb, &hooks, 1000, 2000);
			load_device(&heartbeat_ops, &hb, u);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = "fuzz-key";
	struct snap_file f;
	char err[512];
	log_muted = 1;
	uint8_t *b = malloc(size ? size : 1);
	memcpy(b, data, size);
	for (int pass = 0; pass < 2; pass++) {
		int keyed = size && (data[0] & 1);
		if (snap_parse(b, size, keyed ? key : NULL, sizeof(key) - 1, pass, &f, err,
			       sizeof(err)) == 0) {
			if (f.chunk_count == 0 || f.nunits > SNAP_MAX_UNITS)
				abort();
			for (uint32_t i = 0; i < f.chunk_count && i < 4; i++)
				snap_verify_chunk(&f, i, b + f.mem_offset);
			decode_units(&f);
			snap_free(&f);
			break;
		}
		if (!strstr(err, "integrity hash"))
			break;
		fix_hash(b, size);
	}
	free(b);
	return 0;
}

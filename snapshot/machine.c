/* The machine unit (what a restore rebuilds) and the device walk in save order. */
#include "snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int for_each_device(struct vm *vm, device_fn fn, void *ctx)
{
	const struct bus *buses[2] = {&vm->pio, &vm->mmio};
	for (int b = 0; b < 2; b++)
		for (int i = 0; i < buses[b]->nranges; i++) {
			const struct bus_range *r = &buses[b]->ranges[i];
			uint32_t inst = 0;
			for (int k = 0; k < 2; k++)
				for (int j = 0; j < buses[k]->nranges; j++) {
					const struct bus_range *o = &buses[k]->ranges[j];
					if (o == r)
						goto counted;
					if (strcmp(o->ops->name, r->ops->name) == 0)
						inst++;
				}
		counted:
			if (fn(ctx, r, inst))
				return -1;
		}
	return 0;
}

void machine_unit_save(const struct vm *vm, struct unit_writer *w)
{
	const struct vm_config *c = vm->cfg;
	uw_u64(w, vm->mem.size);
	uw_u32(w, (uint32_t)vm->ncpus);
	uw_u32(w, c->watchdog_action);
	uw_u32(w, c->hb_interval_ms);
	uw_u32(w, c->hb_timeout_ms);
	uw_u32(w, c->hb_action);
	uw_u32(w, (uint32_t)c->ndisks);
	for (int i = 0; i < c->ndisks; i++) {
		uw_u64(w, vm->blk[i].be.size);
		uw_u8(w, (uint8_t)c->disks[i].ro);
		uw_u8(w, (uint8_t)c->disks[i].ephemeral);
	}
	uw_u32(w, (uint32_t)c->nnets);
	uw_u32(w, (uint32_t)vm->nvirtio);
	for (int i = 0; i < vm->nvirtio; i++)
		uw_u32(w, vm->virtio[i]->ops->device_id);
}

/* The virtio device id at slot i: disks, then network devices, then rng. */
static uint32_t expected_device_id(const struct machine_unit *m, uint32_t i)
{
	if (i < m->ndisks)
		return 2;
	return i < m->ndisks + m->nnets ? 1 : 4;
}

int machine_unit_decode(const uint8_t *data, size_t len, uint32_t version, struct machine_unit *m,
			char *err, size_t errlen)
{
	struct unit_reader r = {data, len, 0, 0};
	memset(m, 0, sizeof(*m));
	m->mem = ur_u64(&r);
	m->ncpus = ur_u32(&r);
	m->watchdog_action = ur_u32(&r);
	m->hb_interval_ms = ur_u32(&r);
	m->hb_timeout_ms = ur_u32(&r);
	m->hb_action = ur_u32(&r);
	m->ndisks = ur_u32(&r);
	if (r.failed || m->ndisks > VMM_MAX_DISKS) {
		snprintf(err, errlen, "machine unit: %u disks (at most %d)", m->ndisks,
			 VMM_MAX_DISKS);
		return -1;
	}
	for (uint32_t i = 0; i < m->ndisks; i++) {
		m->disks[i].size = ur_u64(&r);
		m->disks[i].ro = ur_u8(&r);
		m->disks[i].ephemeral = ur_u8(&r);
	}
	if (version >= 2)
		m->nnets = ur_u32(&r);
	if (r.failed || m->nnets > VMM_MAX_NETS) {
		snprintf(err, errlen, "machine unit: %u network devices (at most %d)", m->nnets,
			 VMM_MAX_NETS);
		return -1;
	}
	m->nvirtio = ur_u32(&r);
	if (r.failed || m->nvirtio != m->ndisks + m->nnets + 1) {
		snprintf(err, errlen, "machine unit: %u virtio devices for %u disks and %u nets",
			 m->nvirtio, m->ndisks, m->nnets);
		return -1;
	}
	for (uint32_t i = 0; i < m->nvirtio; i++)
		m->device_ids[i] = ur_u32(&r);
	if (!ur_done(&r)) {
		snprintf(err, errlen, "machine unit is %s", r.failed ? "truncated" : "too long");
		return -1;
	}
	if (m->watchdog_action > ACTION_INJECT_NMI || m->hb_action > ACTION_INJECT_NMI ||
	    m->hb_timeout_ms < m->hb_interval_ms || m->ncpus < 1 || m->ncpus > VMM_MAX_VCPUS) {
		snprintf(err, errlen, "machine unit holds an impossible configuration");
		return -1;
	}
	for (uint32_t i = 0; i < m->nvirtio; i++)
		if (m->device_ids[i] != expected_device_id(m, i)) {
			snprintf(err, errlen, "machine unit: virtio device %u has id %u", i,
				 m->device_ids[i]);
			return -1;
		}
	for (uint32_t i = 0; i < m->ndisks; i++)
		if (m->disks[i].ro > 1 || m->disks[i].ephemeral > 1 || !m->disks[i].size ||
		    m->disks[i].size % 512) {
			snprintf(err, errlen, "machine unit: disk %u is impossible", i);
			return -1;
		}
	return 0;
}

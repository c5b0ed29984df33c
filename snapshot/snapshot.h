/*
 * Taking a snapshot (pause, quiesce, dump) and the machine unit shared by the
 * writer and `vmm restore`.
 */
#ifndef VMM_SNAPSHOT_H
#define VMM_SNAPSHOT_H

#include "../vm.h"
#include "format.h"
#include "unit.h"

#define MACHINE_UNIT_VERSION 2 /* 2: network devices; 1 is still read */

struct snap_result {
	uint64_t file_bytes; /* the file's logical size */
	uint64_t data_bytes; /* non-zero memory written */
	uint64_t ms;	     /* from pause to the rename */
};

/*
 * Pause every vCPU (if not yet), quiesce the virtio devices (in-flight
 * requests finish and their completions are published), and write the whole VM to
 * path through a temporary file in the same directory: synced, renamed,
 * directory synced. The VM stays paused and quiesced either way; call
 * vm_snapshot_done next. Returns 0, or -1 with a reason in err (no file left
 * behind under path or the temporary name).
 */
int vm_snapshot(struct vm *vm, const char *path, struct snap_result *res, char *err, size_t errlen);

/* After vm_snapshot: the virtio devices serve again; the vCPUs resume if resume. */
void vm_snapshot_done(struct vm *vm, int resume);

/* Emit snapshot-written for path with res. */
void vm_snapshot_event(struct vm *vm, const char *path, const struct snap_result *res);

/* The machine unit: configuration a restore rebuilds (RAM, vCPUs, disks, actions). */
struct machine_unit {
	uint64_t mem;
	uint32_t ncpus, watchdog_action, hb_interval_ms, hb_timeout_ms, hb_action;
	uint32_t ndisks;
	struct {
		uint64_t size;
		uint8_t ro, ephemeral;
	} disks[VMM_MAX_DISKS];
	uint32_t nnets;
	uint32_t nvirtio;
	uint32_t device_ids[VIRTIO_MAX_DEVICES];
};

void machine_unit_save(const struct vm *vm, struct unit_writer *w);

/* Decode and range-check. Returns 0 or -1 with a reason in err. */
int machine_unit_decode(const uint8_t *data, size_t len, uint32_t version, struct machine_unit *m,
			char *err, size_t errlen);

/* Call fn for every device on the buses in save order, with its instance number. */
typedef int (*device_fn)(void *ctx, const struct bus_range *r, uint32_t instance);
int for_each_device(struct vm *vm, device_fn fn, void *ctx);

#endif

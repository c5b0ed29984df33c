/*
 * virtio-blk over a raw image file (or block device). `ro` refuses writes
 * with VIRTIO_BLK_S_IOERR; `ephemeral` sends writes to a private overlay that
 * vanishes with the VM, leaving the image byte-for-byte unchanged.
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include "mmio.h"

#include <stdint.h>

#define BLK_SECTOR 512

struct blk_backend {
	const char *path;
	int fd;		/* the image: O_RDONLY when ro or ephemeral */
	int overlay_fd; /* ephemeral: unlinked temporary file, sparse; else -1 */
	uint8_t *written; /* ephemeral: one bit per sector held by the overlay */
	uint64_t size;	/* bytes, a multiple of 512 */
	int ro, ephemeral, is_file;
	char serial[20]; /* GET_ID: stable for the same file (device and inode) */
};

struct virtio_blk {
	struct virtio_dev dev; /* first: the transport hands us &dev */
	struct blk_backend be;
};

/*
 * Open the image for a --disk. Any problem (missing, unreadable, not
 * writable without ro, size not a multiple of 512, locked by another VM)
 * exits with status 2 and a line naming it.
 */
void blk_open(struct blk_backend *be, const char *path, int ro, int ephemeral);

/* Offered device features for be (RO, FLUSH, DISCARD, ...). */
uint64_t blk_features(const struct blk_backend *be);

extern const struct virtio_dev_ops virtio_blk_ops;

struct unit_writer;

/* 1 when be is ephemeral and its overlay holds any written sector. */
int blk_overlay_written(const struct blk_backend *be);

/*
 * The overlay's written sectors as a snapshot unit (device quiesced).
 * Returns 0, or -1 when it cannot be read or is over 48 MiB.
 */
int blk_overlay_save(const struct blk_backend *be, struct unit_writer *w);

/*
 * Put a saved overlay into ephemeral be's fresh overlay. Returns 0, or -1
 * when the unit is malformed, does not fit the disk, or be is not ephemeral.
 */
int blk_overlay_load(struct blk_backend *be, const uint8_t *data, size_t len);

/*
 * Handle one request chain (exposed for the fuzz target). Returns 0 with
 * *written set, or -1 after virtio_fault().
 */
int blk_handle_chain(struct virtio_dev *d, struct vchain *c, uint32_t *written);

/* Serve queue 0 as the I/O thread would (the fuzz target's entry point). */
void blk_process_for_fuzzing(struct virtio_dev *d);

#endif

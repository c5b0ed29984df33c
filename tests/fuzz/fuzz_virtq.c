/*
 * libFuzzer target: the split virtqueue walker and virtio-blk request parsing
 * over hostile guest memory. The input is guest RAM (the first 64 KiB) plus a
 * few bytes choosing the queue size and ring addresses; requests go to a
 * small scratch image. NEEDS_RESET is an expected outcome; crashes, reads or
 * writes outside guest RAM (ASan) and undefined behaviour are not.
 */
#include "../../devices/virtio/blk.h"
#include "../../log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM (64 * 1024)

static const struct machine_hooks no_hooks;
static struct virtio_blk blk;
static int image_fd = -1;

static void setup_once(void)
{
	if (image_fd >= 0)
		return;
	char path[] = "/tmp/vmm-fuzz-blk-XXXXXX";
	image_fd = mkstemp(path);
	unlink(path);
	if (image_fd < 0 || ftruncate(image_fd, 64 * 1024) < 0)
		abort();
	log_muted = 1; /* every fault would print a line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	setup_once();
	static uint8_t ram[RAM];
	memset(ram, 0, RAM);
	memcpy(ram, data + 8, size - 8 < RAM ? size - 8 : RAM);
	struct guest_mem mem = {.host = ram, .size = RAM, .low_size = RAM};

	struct virtio_dev *d = &blk.dev;
	memset(&blk, 0, sizeof(blk));
	d->ops = &virtio_blk_ops;
	d->hooks = &no_hooks;
	d->mem = &mem;
	d->irq_fd = -1;
	snprintf(d->label, sizeof(d->label), "fuzz-blk");
	pthread_mutex_init(&d->lock, NULL);
	blk.be.fd = image_fd;
	blk.be.overlay_fd = -1;
	blk.be.size = 64 * 1024;
	blk.be.is_file = 1;
	blk.be.ro = data[7] & 1;
	d->status = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;

	struct virtq *q = &d->q[0];
	q->size = (uint16_t)(1u << (data[0] % 9)); /* 1..256 */
	q->desc_gpa = (uint64_t)(data[1] | data[2] << 8) * 16 % RAM;
	q->avail_gpa = (uint64_t)(data[3] | data[4] << 8) * 2 % RAM;
	q->used_gpa = (uint64_t)(data[5] | data[6] << 8) * 4 % RAM;
	q->event_idx = data[7] >> 7;
	char err[160];
	if (virtq_activate(q, &mem, err, sizeof(err)) < 0)
		return 0;
	q->ready = 1;
	blk_process_for_fuzzing(d);
	return 0;
}

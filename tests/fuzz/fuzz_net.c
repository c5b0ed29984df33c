/*
 * libFuzzer target: the virtio-net transmit path over hostile guest memory:
 * chain gathering by the virtqueue walker, then the header checks against
 * the negotiated features and the frame, up to the write (to /dev/null here
 * instead of a tap). The input is guest RAM (the first 64 KiB) plus a few
 * bytes choosing the queue size, ring addresses and negotiated offloads.
 * NEEDS_RESET is an expected outcome; crashes, reads or writes outside guest
 * RAM (ASan) and undefined behaviour are not.
 */
#include "../../devices/virtio/net.h"
#include "../../log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM (64 * 1024)

static const struct machine_hooks no_hooks;
static struct virtio_net net;
static int sink = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	if (sink < 0) {
		sink = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (sink < 0)
			abort();
		log_muted = 1; /* every fault would print a line */
	}
	static uint8_t ram[RAM];
	memset(ram, 0, RAM);
	memcpy(ram, data + 9, size - 9 < RAM ? size - 9 : RAM);
	struct guest_mem mem = {.host = ram, .size = RAM, .low_size = RAM};

	struct virtio_dev *d = &net.dev;
	memset(&net, 0, sizeof(net));
	d->ops = &virtio_net_ops;
	d->hooks = &no_hooks;
	d->mem = &mem;
	d->irq_fd = -1;
	d->backend_fd = -1;
	snprintf(d->label, sizeof(d->label), "fuzz-net");
	pthread_mutex_init(&d->lock, NULL);
	net.be.fd = sink;
	net.be.name = "fuzz";
	/* Negotiated: VERSION_1 plus a fuzzed choice of the offload bits 0..15. */
	d->features = 0x1ffffull | (1ull << 32);
	d->driver_features = (1ull << 32) | (uint64_t)(data[7] | data[8] << 8);
	d->status = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	net.offloads_set = 1; /* no TUNSETOFFLOAD on /dev/null */

	struct virtq *q = &d->q[1];
	q->size = (uint16_t)(1u << (data[0] % 9)); /* 1..256 */
	q->desc_gpa = (uint64_t)(data[1] | data[2] << 8) * 16 % RAM;
	q->avail_gpa = (uint64_t)(data[3] | data[4] << 8) * 2 % RAM;
	q->used_gpa = (uint64_t)(data[5] | data[6] << 8) * 4 % RAM;
	q->event_idx = data[8] >> 7;
	char err[160];
	if (virtq_activate(q, &mem, err, sizeof(err)) < 0)
		return 0;
	q->ready = 1;
	virtio_serve(d, 1, net_tx_chain);
	return 0;
}

/*
 * libFuzzer target: the virtio-net paths over hostile guest memory. Transmit:
 * chain gathering by the virtqueue walker, then the header checks against
 * the negotiated features and the frame, up to the write (to /dev/null here
 * instead of a tap). Receive (when the first byte's top bit is set): frames
 * of fuzzed sizes wait in a datagram socket standing in for the tap, and the
 * device spreads them over the guest's receive chains, mergeable or not. The
 * input is guest RAM (the first 64 KiB) plus a few bytes choosing the queue
 * size, ring addresses, negotiated features and frame sizes. NEEDS_RESET is
 * an expected outcome; crashes, reads or writes outside guest RAM (ASan) and
 * undefined behaviour are not.
 */
#include "../../devices/virtio/net.h"
#include "../../log.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM (64 * 1024)

static const struct machine_hooks no_hooks;
static struct virtio_net net;
static int sink = -1, rx_pair[2] = {-1, -1};
static uint8_t frame[NET_FRAME_MAX], bounce[NET_FRAME_MAX];

/* Queue three frames of fuzzed sizes on the stand-in tap; drain what the device left. */
static void receive(struct virtio_dev *d, const uint8_t *sizes)
{
	for (int i = 0; i < 3; i++) {
		size_t len = (size_t)(sizes[2 * i] | sizes[2 * i + 1] << 8) % NET_FRAME_MAX;
		ssize_t r = send(rx_pair[1], frame, len, MSG_DONTWAIT);
		(void)r;
	}
	virtio_net_ops.backend_ready(d);
	while (recv(rx_pair[0], frame, sizeof(frame), MSG_DONTWAIT) >= 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9 + 6)
		return 0;
	if (sink < 0) {
		sink = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (sink < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, rx_pair) < 0)
			abort();
		int big = 4 << 20;
		setsockopt(rx_pair[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(rx_pair[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		log_muted = 1; /* every fault would print a line */
	}
	static uint8_t ram[RAM];
	memset(ram, 0, RAM);
	const uint8_t *sizes = data + 9;
	memcpy(ram, data + 15, size - 15 < RAM ? size - 15 : RAM);
	int rx = data[0] >> 7;
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
	net.be.fd = rx ? rx_pair[0] : sink;
	net.be.name = "fuzz";
	net.bounce = bounce; /* net_open allocates it */
	/* Negotiated: VERSION_1 plus a fuzzed choice of the offload bits 0..15. */
	d->features = 0x1ffffull | (1ull << 32);
	d->driver_features = (1ull << 32) | (uint64_t)(data[7] | data[8] << 8);
	d->status = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	net.offloads_set = 1; /* no TUNSETOFFLOAD on /dev/null */

	struct virtq *q = &d->q[rx ? 0 : 1];
	q->size = (uint16_t)(1u << ((data[0] & 0x7f) % 9)); /* 1..256 */
	q->desc_gpa = (uint64_t)(data[1] | data[2] << 8) * 16 % RAM;
	q->avail_gpa = (uint64_t)(data[3] | data[4] << 8) * 2 % RAM;
	q->used_gpa = (uint64_t)(data[5] | data[6] << 8) * 4 % RAM;
	q->event_idx = data[8] >> 7;
	char err[160];
	if (virtq_activate(q, &mem, err, sizeof(err)) < 0)
		return 0;
	q->ready = 1;
	if (rx)
		receive(d, sizes);
	else
		virtio_serve(d, 1, net_tx_chain);
	return 0;
}

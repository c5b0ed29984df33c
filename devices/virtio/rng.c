/* virtio-rng: fills the driver's buffers from getrandom(2). */
#include "rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define RNG_MAX_PER_REQUEST 65536

static int rng_chain(struct virtio_dev *d, struct vchain *c, uint32_t *written)
{
	if (c->nout) {
		virtio_fault(d, "entropy request with device-readable buffers");
		return -1;
	}
	size_t total = 0;
	for (int i = 0; i < c->nin && total < RNG_MAX_PER_REQUEST; i++) {
		size_t want = c->in[i].iov_len;
		if (want > RNG_MAX_PER_REQUEST - total)
			want = RNG_MAX_PER_REQUEST - total;
		ssize_t r;
		do
			r = getrandom(c->in[i].iov_base, want, 0);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		total += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	*written = (uint32_t)total;
	return 0;
}

static void rng_process(struct virtio_dev *d, int qi)
{
	virtio_serve(d, qi, rng_chain);
}

static void rng_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)d;
	(void)off;
	memset(data, 0, len); /* no config space */
}

const struct virtio_dev_ops virtio_rng_ops = {
    .name = "virtio-rng",
    .device_id = 4,
    .nqueues = 1,
    .config_read = rng_config_read,
    .process = rng_process,
    .reset = NULL,
};

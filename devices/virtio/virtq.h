/*
 * Split virtqueues, device side. Everything read from the rings is checked:
 * indices, chain lengths, descriptor addresses and lengths, flags, the order
 * of readable and writable buffers, and jumps of the available index. A fault
 * is reported as a one-line reason; the transport then puts the device into
 * DEVICE_NEEDS_RESET.
 */
#ifndef VMM_VIRTQ_H
#define VMM_VIRTQ_H

#include "../../memory.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTQ_MAX_SIZE 256 /* the largest queue vmm offers */
#define VIRTQ_MAX_SEGS 256 /* buffers in one chain, indirect included */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq {
	/* Set by the driver through the transport. */
	uint16_t size; /* QueueNum; a power of two, at most VIRTQ_MAX_SIZE */
	uint8_t ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Device state. */
	uint16_t last_avail; /* next available-ring slot to take */
	uint16_t used_idx;   /* next used-ring slot to fill */
	uint8_t event_idx;   /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint16_t signalled;  /* used_idx at the last notification */
	/* Host views of the rings, checked by virtq_activate. */
	volatile uint8_t *desc, *avail, *used;
};

/* One chain: device-readable buffers, then device-writable ones. */
struct vchain {
	uint16_t head;
	int nout, nin;
	struct iovec out[VIRTQ_MAX_SEGS], in[VIRTQ_MAX_SEGS];
	size_t out_len, in_len;
};

/*
 * Check the rings' placement in guest RAM (and alignment) and map them.
 * Returns 0, or -1 with a reason in err.
 */
int virtq_activate(struct virtq *q, const struct guest_mem *m, char *err, size_t errlen);

/* Forget the driver's setup (device reset). */
void virtq_reset(struct virtq *q);

/*
 * Take the next available chain into c. Returns 1 with a chain, 0 when the
 * ring is empty, -1 on a driver fault (reason in err; the queue must not be
 * used again until the device is reset).
 */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct vchain *c, char *err,
	      size_t errlen);

/*
 * Give back the last n chains popped and not yet pushed: the next pops take
 * them again (a device that took more buffers than it used).
 */
void virtq_unpop(struct virtq *q, uint16_t n);

/* Publish chain head as used with len bytes written by the device. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/*
 * After pushing: 1 if the driver wants an interrupt now (EVENT_IDX's
 * used_event or the NO_INTERRUPT flag), updating the bookkeeping.
 */
int virtq_should_notify(struct virtq *q);

/*
 * With EVENT_IDX, ask for a kick at the next available entry; returns 1 if
 * entries arrived meanwhile (the caller goes on popping instead of sleeping).
 */
int virtq_enable_kicks(struct virtq *q);

/* Copy up to len bytes out of an iovec array starting at byte skip. */
size_t iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len);

/* Copy len bytes into an iovec array starting at byte skip; returns bytes copied. */
size_t buf_to_iov(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len);

/*
 * The sub-range [skip, skip + len) of an iovec array as a new array in out
 * (at most max entries). Returns the entry count.
 */
int iov_slice(const struct iovec *iov, int n, size_t skip, size_t len, struct iovec *out, int max);

#endif

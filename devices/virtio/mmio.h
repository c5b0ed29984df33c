/*
 * virtio-mmio transport, version 2 (modern) only. Queue notifications arrive
 * through ioeventfds and interrupts leave through an irqfd, so a vCPU never
 * waits for device work: each device has its own I/O thread.
 */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include "../device.h"
#include "virtq.h"

#include <pthread.h>
#include <stdint.h>

#define VIRTIO_MMIO_BASE 0xd0001000ull
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_IRQ_BASE 5
#define VIRTIO_MAX_DEVICES 16
#define VIRTIO_MAX_QUEUES 4

/* Feature bits the transport handles itself. */
#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_EVENT_IDX (1ull << 29)
#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Device status bits. */
#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

struct virtio_dev;

/* What a device type plugs into the transport. */
struct virtio_dev_ops {
	const char *name;   /* "virtio-blk": log prefix and snapshot unit name */
	uint32_t device_id; /* 2 blk, 4 rng, 1 net */
	int nqueues;
	/* Device-specific config space at 0x100: 1, 2 or 4-byte accesses. */
	void (*config_read)(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len);
	/*
	 * Serve available chains of queue qi, on the device's I/O thread. Return
	 * after virtio_fault() when the driver broke the rules.
	 */
	void (*process)(struct virtio_dev *d, int qi);
	/* Drop device-specific state on a device reset (may be NULL). */
	void (*reset)(struct virtio_dev *d);
	/*
	 * Devices that finish requests after process() returns (may be NULL):
	 * wait until no request taken from a ring is outstanding and each is
	 * published as used, with its interrupt raised if due. Called with
	 * io_lock held, so process() cannot take new ones meanwhile; the
	 * transport calls it before a reset, a save, a load and a stop.
	 */
	void (*quiesce)(struct virtio_dev *d);
	/* Start / end the device's own helper threads (may be NULL). */
	void (*start)(struct virtio_dev *d);
	void (*stop)(struct virtio_dev *d);
	/*
	 * The backend descriptor (virtio_watch_backend) is readable, on the I/O
	 * thread with the device live (may be NULL without a backend fd).
	 */
	void (*backend_ready)(struct virtio_dev *d);
	/*
	 * Device-specific snapshot state, appended to the transport's unit with
	 * its own version (may be NULL: nothing beyond the transport). load
	 * returns 0, or -1 when the bytes are malformed or impossible.
	 */
	uint32_t state_version;
	void (*save)(struct virtio_dev *d, struct unit_writer *w);
	int (*load)(struct virtio_dev *d, struct unit_reader *r, uint32_t version);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	uint64_t features; /* offered: device bits plus the transport's */
	const struct machine_hooks *hooks;
	const struct guest_mem *mem;
	uint64_t base;
	uint32_t irq;
	char label[40]; /* "virtio-blk@0xd0001000" for messages */

	pthread_mutex_t lock;	 /* registers */
	pthread_mutex_t io_lock; /* held by the I/O thread while it serves queues */
	uint32_t status, dev_features_sel, drv_features_sel, queue_sel, config_generation;
	uint64_t driver_features;
	uint32_t interrupt_status; /* atomic: set by the I/O thread, acked by the guest */
	struct virtq q[VIRTIO_MAX_QUEUES];

	int kick_fd[VIRTIO_MAX_QUEUES]; /* ioeventfds on QueueNotify, one per queue */
	int irq_fd;			/* irqfd on the device's GSI */
	int ctl_fd;			/* wakes the I/O thread: activation, stop */
	int backend_fd;			/* a host fd the I/O thread also waits on, or -1 */
	int backend_polled;		/* I/O thread only: backend_fd is in the wait set */
	int irq_deferred; /* I/O thread only: a used interrupt waits for the end of its pass */
	int epfd;
	int stop;
	int quiesced;	 /* under lock: serve nothing (a snapshot is being taken) */
	int thread_kind; /* enum thread_kind for seccomp */
	pthread_t thread;
};

extern const struct device_ops virtio_mmio_ops;

/*
 * Set up d at base with irq: eventfds, and the KVM ioeventfd/irqfd bindings
 * through hooks. Exits with status 1 if the host refuses.
 */
void virtio_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		 uint64_t device_features, const struct machine_hooks *hooks,
		 const struct guest_mem *mem, uint64_t base, uint32_t irq, int thread_kind);

/* Bind the eventfds to a new VM (after a watchdog reset rebuilt it). */
void virtio_bind(struct virtio_dev *d);

/*
 * Have the I/O thread also wait for fd to become readable (a tap); it starts
 * out not waited on. Call before virtio_start.
 */
void virtio_watch_backend(struct virtio_dev *d, int fd);

/*
 * On the I/O thread: wait for the backend fd (on 1) or stop waiting for it
 * (on 0), e.g. while the driver has given no buffers to fill. No-op if
 * unchanged.
 */
void virtio_poll_backend(struct virtio_dev *d, int on);

/* On the I/O thread: stop watching the backend fd for good (it failed). */
void virtio_drop_backend(struct virtio_dev *d);

/* 1 when the driver finished setup and the device has not failed. */
int virtio_live(struct virtio_dev *d);

/* Start the device's I/O thread. */
void virtio_start(struct virtio_dev *d);

/*
 * Let the request being served and those in flight finish (their completions
 * published), then serve nothing until virtio_unquiesce, which looks at every
 * queue again.
 */
void virtio_quiesce(struct virtio_dev *d);
void virtio_unquiesce(struct virtio_dev *d);

/*
 * Start the I/O thread again after virtio_stop (a snapshot, a restore) and
 * have it look at every queue, as if the driver had kicked them all.
 */
void virtio_restart(struct virtio_dev *d);

/*
 * Stop the I/O thread after the request it is serving, let the requests in
 * flight finish, and end the device's threads.
 */
void virtio_stop(struct virtio_dev *d);

/*
 * Wait until d has no request in flight and every completion is published
 * (ops->quiesce under io_lock). The device stays quiet only while nothing
 * kicks it: pause the vCPUs first, or use virtio_quiesce. virtio_save drains
 * by itself.
 */
void virtio_drain(struct virtio_dev *d);

/*
 * The driver broke the rules: log one line naming the fault, set
 * DEVICE_NEEDS_RESET and tell the driver (config interrupt); the device
 * serves nothing until the driver resets it.
 */
void virtio_fault(struct virtio_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Used-buffer interrupt for queue q if the driver wants one now. */
void virtio_notify(struct virtio_dev *d, struct virtq *q);

/* Serve queue qi: pop, handle with fn, push, notify; EVENT_IDX aware. */
typedef int (*virtio_chain_fn)(struct virtio_dev *d, struct vchain *c, uint32_t *written);
void virtio_serve(struct virtio_dev *d, int qi, virtio_chain_fn fn);

#endif

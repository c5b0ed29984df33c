/*
 * virtio-blk over a raw image file (or block device). `ro` refuses writes
 * with VIRTIO_BLK_S_IOERR; `ephemeral` sends writes to a private overlay that
 * vanishes with the VM, leaving the image byte-for-byte unchanged.
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include "mmio.h"

#include <pthread.h>
#include <stdint.h>

#define BLK_SECTOR 512
#define BLK_WORKERS 4 /* worker threads per disk */
#define BLK_SLOTS 32  /* requests in flight per disk; the ring waits beyond that */

struct blk_backend {
	const char *path;
	int fd;		  /* the image: O_RDONLY when ro or ephemeral */
	int overlay_fd;	  /* ephemeral: unlinked temporary file, sparse; else -1 */
	uint8_t *written; /* ephemeral: one bit per sector held by the overlay */
	uint64_t size;	  /* bytes, a multiple of 512 */
	int ro, ephemeral, is_file;
	char serial[20]; /* GET_ID: stable for the same file (device and inode) */
};

/* A request header, copied out of guest memory once, when it is checked. */
struct blk_hdr {
	uint32_t type;
	uint64_t sector;
};

/* One request taken from the ring and not yet published as used. */
struct blk_req {
	struct vchain c;
	struct blk_hdr hdr;
	struct blk_req *next; /* on the free list or the work queue */
};

/*
 * Requests in flight for one disk (devices/virtio/blk_pool.c). The I/O
 * thread takes chains from the ring into slots and queues them; workers run
 * them and publish each as used as soon as it is done, so completions may
 * overtake each other (virtio-blk allows it). Everything below is guarded
 * by lock.
 */
struct blk_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;		    /* a request was queued, or stop was set */
	pthread_cond_t done;		    /* a request was published: a slot is free */
	struct blk_req *slots;		    /* BLK_SLOTS; NULL until blk_pool_start */
	struct blk_req *free, *head, *tail; /* free slots; queued requests, oldest first */
	int inflight;			    /* taken from the ring, not yet published */
	int nthreads, stop;
	pthread_t threads[BLK_WORKERS];
};

struct virtio_blk {
	struct virtio_dev dev; /* first: the transport hands us &dev */
	struct blk_backend be;
	struct blk_pool pool;
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

/* Serve queue 0 one request at a time (the fuzz target's entry point). */
void blk_process_for_fuzzing(struct virtio_dev *d);

/*
 * The parts of blk_handle_chain, for the pool. blk_check_chain: 0 with the
 * header copied into h if the chain has the shape of a request (header,
 * status byte, data in the right direction), else -1 after virtio_fault();
 * it runs on the I/O thread. blk_execute: do the request c with header h
 * (the copy, never re-read: the guest may rewrite its own), write its status
 * byte, return the bytes written into the chain; safe on any thread, for any
 * number at once.
 */
int blk_check_chain(struct virtio_dev *d, const struct vchain *c, struct blk_hdr *h);
uint32_t blk_execute(struct blk_backend *be, const struct vchain *c, const struct blk_hdr *h);
int blk_is_flush(const struct blk_hdr *h);

/*
 * The pool's device ops (see struct virtio_dev_ops). blk_pool_start spawns
 * the workers (main thread, before seccomp); blk_pool_process is the I/O
 * thread's dispatcher; blk_pool_quiesce returns once nothing is in flight
 * and every completion is published and signalled; blk_pool_stop ends the
 * workers after the I/O thread has stopped.
 */
void blk_pool_start(struct virtio_dev *d);
void blk_pool_process(struct virtio_dev *d, int qi);
void blk_pool_quiesce(struct virtio_dev *d);
void blk_pool_stop(struct virtio_dev *d);

#endif

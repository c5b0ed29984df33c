/*
 * virtio-blk requests in flight at once: the I/O thread takes chains from the
 * ring and checks their shape; a few worker threads do the file I/O (blocking
 * preadv/pwritev on the image, as simple as it gets and as fast as the page
 * cache) and publish each request as used when it is done.
 *
 * Ordering: used-ring entries are written under the pool lock, each before
 * the index that publishes it (virtq_push), and the interrupt decision
 * (EVENT_IDX or NO_INTERRUPT) is taken after every publication. A flush is
 * queued only once every request taken before it has completed, so the
 * fdatasync covers all writes the guest saw complete before it issued the
 * flush and every write it queued ahead of it.
 */
#include "blk.h"

#include "../../log.h"
#include "../../seccomp/seccomp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_STACK (128 * 1024) /* blk_execute keeps a few iovec arrays on the stack */

static struct blk_pool *pool_of(struct virtio_dev *d)
{
	return &((struct virtio_blk *)d)->pool;
}

/* A free slot, counted as in flight; waits while all BLK_SLOTS are busy. */
static struct blk_req *take_slot(struct blk_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->free)
		pthread_cond_wait(&p->done, &p->lock);
	struct blk_req *r = p->free;
	p->free = r->next;
	p->inflight++;
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Lock held: give the slot back. */
static void release_locked(struct blk_pool *p, struct blk_req *r)
{
	r->next = p->free;
	p->free = r;
	p->inflight--;
	pthread_cond_broadcast(&p->done);
}

/* A slot that held no request after all (empty ring, or a fault). */
static void drop_slot(struct blk_pool *p, struct blk_req *r)
{
	pthread_mutex_lock(&p->lock);
	release_locked(p, r);
	pthread_mutex_unlock(&p->lock);
}

/* Wait until at most keep requests are in flight. */
static void wait_inflight(struct blk_pool *p, int keep)
{
	pthread_mutex_lock(&p->lock);
	while (p->inflight > keep)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void enqueue(struct blk_pool *p, struct blk_req *r)
{
	pthread_mutex_lock(&p->lock);
	r->next = NULL;
	if (p->tail)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

/* Lock held: the oldest queued request, or NULL. */
static struct blk_req *dequeue_locked(struct blk_pool *p)
{
	struct blk_req *r = p->head;
	if (r) {
		p->head = r->next;
		if (!p->head)
			p->tail = NULL;
	}
	return r;
}

/* The queued request, if it is the only one in flight and no worker has it yet. */
static struct blk_req *steal_lone(struct blk_pool *p)
{
	pthread_mutex_lock(&p->lock);
	struct blk_req *r = p->inflight == 1 ? p->tail : NULL, *prev = NULL;
	if (r) {
		for (struct blk_req *i = p->head; i != r; i = i->next)
			prev = i;
		if (prev)
			prev->next = NULL;
		else
			p->head = NULL;
		p->tail = prev;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Lock held: publish r as used, interrupt if the driver wants one, free the slot. */
static void publish_locked(struct virtio_dev *d, struct blk_req *r, uint32_t written)
{
	struct virtq *q = &d->q[0];
	virtq_push(q, r->c.head, written);
	virtio_notify(d, q);
	release_locked(pool_of(d), r);
}

static void run_and_publish(struct virtio_blk *b, struct blk_req *r)
{
	uint32_t written = blk_execute(&b->be, &r->c, &r->hdr);
	pthread_mutex_lock(&b->pool.lock);
	publish_locked(&b->dev, r, written);
	pthread_mutex_unlock(&b->pool.lock);
}

static void *worker(void *arg)
{
	struct virtio_blk *b = arg;
	struct blk_pool *p = &b->pool;
	seccomp_enter(THREAD_VIRTIO_BLK_WORKER);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		struct blk_req *r = dequeue_locked(p);
		if (!r)
			break; /* stopping, and nothing is left to do */
		pthread_mutex_unlock(&p->lock);
		uint32_t written = blk_execute(&b->be, &r->c, &r->hdr);
		pthread_mutex_lock(&p->lock);
		publish_locked(&b->dev, r, written);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void blk_pool_process(struct virtio_dev *d, int qi)
{
	struct blk_pool *p = pool_of(d);
	struct virtq *q = &d->q[qi];
	char err[160];
	if (!p->nthreads) {
		virtio_serve(d, qi, blk_handle_chain); /* no workers: one at a time */
		return;
	}
	for (;;) {
		int r;
		for (;;) {
			struct blk_req *req = take_slot(p);
			r = virtq_pop(q, d->mem, &req->c, err, sizeof(err));
			if (r <= 0) {
				drop_slot(p, req);
				break;
			}
			if (blk_check_chain(d, &req->c, &req->hdr) < 0) {
				drop_slot(p, req);
				return;
			}
			if (blk_is_flush(&req->hdr))
				wait_inflight(p, 1); /* everything before it, not itself */
			enqueue(p, req);
		}
		if (r < 0) {
			virtio_fault(d, "queue %d: %s", qi, err);
			return;
		}
		/*
		 * The ring is empty. A lone request (queue depth 1) is done here
		 * rather than by a woken worker: no thread switch. And before
		 * asking for kicks again, so what the driver adds meanwhile is
		 * found below without a VM exit. With more in flight the I/O
		 * thread stays free to hand out what comes next.
		 */
		struct blk_req *lone = steal_lone(p);
		if (lone)
			run_and_publish((struct virtio_blk *)d, lone);
		if (!virtq_enable_kicks(q))
			break;
	}
}

void blk_pool_quiesce(struct virtio_dev *d)
{
	struct blk_pool *p = pool_of(d);
	if (p->slots)
		wait_inflight(p, 0);
}

void blk_pool_start(struct virtio_dev *d)
{
	struct blk_pool *p = pool_of(d);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->slots = calloc(BLK_SLOTS, sizeof(*p->slots));
	if (!p->slots)
		die("%s: out of memory for %d request slots", d->label, BLK_SLOTS);
	for (int i = 0; i < BLK_SLOTS; i++) {
		p->slots[i].next = p->free;
		p->free = &p->slots[i];
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (int i = 0; i < BLK_WORKERS; i++) {
		int e = pthread_create(&p->threads[i], &attr, worker, d);
		if (e) {
			errno = e;
			die_errno("%s: cannot start I/O worker %d", d->label, i);
		}
		p->nthreads++;
	}
	pthread_attr_destroy(&attr);
}

void blk_pool_stop(struct virtio_dev *d)
{
	struct blk_pool *p = pool_of(d);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

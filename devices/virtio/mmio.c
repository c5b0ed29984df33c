/* virtio-mmio v2 transport: registers, status machine, I/O thread, faults. */
#include "mmio.h"

#include "../../log.h"
#include "../../seccomp/seccomp.h"
#include "../../snapshot/unit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_SHM_SEL 0x0ac
#define REG_SHM_LEN_LOW 0x0b0
#define REG_SHM_LEN_HIGH 0x0b4
#define REG_SHM_BASE_LOW 0x0b8
#define REG_SHM_BASE_HIGH 0x0bc
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define MAGIC 0x74726976  /* "virt" */
#define VENDOR 0x554d4d56 /* "VMMU" */
#define INT_USED 1
#define INT_CONFIG 2

static const uint64_t transport_features =
    VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | VIRTIO_F_INDIRECT_DESC;

static void wake_thread(struct virtio_dev *d)
{
	uint64_t one = 1;
	ssize_t r = write(d->ctl_fd, &one, sizeof(one));
	(void)r;
}

static void raise_interrupt(struct virtio_dev *d, uint32_t bit)
{
	__atomic_fetch_or(&d->interrupt_status, bit, __ATOMIC_SEQ_CST);
	uint64_t one = 1;
	ssize_t r = write(d->irq_fd, &one, sizeof(one));
	(void)r;
}

/*
 * The device whose queues this I/O thread is serving right now: its used
 * interrupts wait until the pass ends, so that one interrupt covers every
 * queue the pass touched (on virtio-mmio each interrupt costs the guest a
 * status read and an acknowledge, both exits).
 */
static __thread struct virtio_dev *serving;

void virtio_notify(struct virtio_dev *d, struct virtq *q)
{
	if (!virtq_should_notify(q))
		return;
	if (serving == d)
		d->irq_deferred = 1;
	else
		raise_interrupt(d, INT_USED);
}

/* With d->lock held: mark NEEDS_RESET and log once; 1 if the driver must be told. */
static int fault_locked(struct virtio_dev *d, const char *msg)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return 0;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	vmm_log("%s: %s; device needs reset", d->label, msg);
	return !!(d->status & VIRTIO_STATUS_DRIVER_OK);
}

void virtio_fault(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&d->lock);
	int tell = fault_locked(d, msg);
	pthread_mutex_unlock(&d->lock);
	if (tell)
		raise_interrupt(d, INT_CONFIG);
}

void virtio_serve(struct virtio_dev *d, int qi, virtio_chain_fn fn)
{
	static __thread struct vchain chain;
	struct virtq *q = &d->q[qi];
	char err[160];
	int n = 0, r;
	/* Until the ring stays empty with kicks on; then one notification for all. */
	do {
		while ((r = virtq_pop(q, d->mem, &chain, err, sizeof(err))) > 0) {
			uint32_t written = 0;
			if (fn(d, &chain, &written) < 0)
				return; /* fn reported the fault */
			virtq_push(q, chain.head, written);
			n++;
		}
		if (r < 0) {
			virtio_fault(d, "queue %d: %s", qi, err);
			return;
		}
	} while (virtq_enable_kicks(q));
	if (n)
		virtio_notify(d, q);
}

/* ---- registers ---- */

static int queue_ok(struct virtio_dev *d)
{
	return d->queue_sel < (uint32_t)d->ops->nqueues;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = queue_ok(d) ? &d->q[d->queue_sel] : NULL;
	switch (off) {
	case REG_MAGIC:
		return MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return d->ops->device_id;
	case REG_VENDOR_ID:
		return VENDOR;
	case REG_DEVICE_FEATURES:
		return d->dev_features_sel < 2
			   ? (uint32_t)(d->features >> (32 * d->dev_features_sel))
			   : 0;
	case REG_QUEUE_NUM_MAX:
		return q ? VIRTQ_MAX_SIZE : 0;
	case REG_QUEUE_READY:
		return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS:
		return __atomic_load_n(&d->interrupt_status, __ATOMIC_SEQ_CST);
	case REG_STATUS:
		return d->status;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
	case REG_SHM_BASE_LOW:
	case REG_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case REG_CONFIG_GENERATION:
		return d->config_generation;
	}
	return 0; /* write-only and reserved registers */
}

static void set_addr(uint64_t *a, int high, uint32_t v)
{
	*a = high ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

/* io_lock held: requests in flight finish before the rings change under them. */
static void quiesce_locked(struct virtio_dev *d)
{
	if (d->ops->quiesce)
		d->ops->quiesce(d);
}

void virtio_drain(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->io_lock);
	quiesce_locked(d);
	pthread_mutex_unlock(&d->io_lock);
}

/* Both locks held (io_lock first): back to the state before the driver came. */
static void device_reset(struct virtio_dev *d)
{
	quiesce_locked(d);
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&d->q[i]);
	d->status = 0;
	d->driver_features = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	__atomic_store_n(&d->interrupt_status, 0, __ATOMIC_SEQ_CST);
	if (d->ops->reset)
		d->ops->reset(d);
}

/* Both locks held. A ring that does not check out breaks the device. */
static void queue_ready(struct virtio_dev *d, struct virtq *q, uint32_t v)
{
	char err[160], msg[200];
	if (v == 1 && !q->ready) {
		if (virtq_activate(q, d->mem, err, sizeof(err)) == 0) {
			q->ready = 1;
			q->event_idx = !!(d->driver_features & VIRTIO_F_EVENT_IDX);
		} else {
			snprintf(msg, sizeof(msg), "queue %u: %s", d->queue_sel, err);
			if (fault_locked(d, msg))
				raise_interrupt(d, INT_CONFIG);
		}
	} else if (v == 0) {
		q->ready = 0;
	}
}

/* The driver may only add status bits; 0 resets. FEATURES_OK needs a valid subset. */
static void status_write(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		device_reset(d);
		return;
	}
	if ((v & d->status) != d->status)
		return; /* clearing bits without a reset is not allowed: ignored */
	uint32_t added = v & ~d->status;
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		if ((d->driver_features & ~d->features) ||
		    !(d->driver_features & VIRTIO_F_VERSION_1))
			v &= ~(uint32_t)
				 VIRTIO_STATUS_FEATURES_OK; /* refused: driver sees it cleared */
	}
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
	d->status = v | (d->status & VIRTIO_STATUS_NEEDS_RESET);
	if (added & VIRTIO_STATUS_DRIVER_OK)
		wake_thread(d); /* serve whatever was queued before DRIVER_OK */
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = queue_ok(d) ? &d->q[d->queue_sel] : NULL;
	int setup = !(d->status & VIRTIO_STATUS_FEATURES_OK); /* features still negotiable */
	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		d->dev_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (setup && d->drv_features_sel < 2) {
			int sh = 32 * (int)d->drv_features_sel;
			d->driver_features =
			    (d->driver_features & ~(0xffffffffull << sh)) | (uint64_t)v << sh;
		}
		break;
	case REG_DRIVER_FEATURES_SEL:
		d->drv_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if (q && !q->ready)
			q->size = (uint16_t)(v <= VIRTQ_MAX_SIZE ? v : 0);
		break;
	case REG_QUEUE_READY:
		if (q)
			queue_ready(d, q, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* Normally caught by the ioeventfd; a stray exit still wakes the thread. */
		if (v < (uint32_t)d->ops->nqueues) {
			uint64_t one = 1;
			ssize_t r = write(d->kick_fd[v], &one, sizeof(one));
			(void)r;
		}
		break;
	case REG_STATUS:
		status_write(d, v);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (q && !q->ready)
			set_addr(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (q && !q->ready)
			set_addr(&q->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (q && !q->ready)
			set_addr(&q->used_gpa, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	case REG_SHM_SEL:
	default:
		break; /* read-only and reserved registers ignore writes */
	}
}

static void virtio_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_dev *d = dev;
	if (off >= REG_CONFIG) {
		d->ops->config_read(d, off - REG_CONFIG, data, len);
		return;
	}
	if (len != 4 || (off & 3)) {
		memset(data, 0, len); /* registers are 32-bit, aligned: others read 0 */
		return;
	}
	pthread_mutex_lock(&d->lock);
	le_put(data, 4, reg_read(d, off));
	pthread_mutex_unlock(&d->lock);
}

static void virtio_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_dev *d = dev;
	if (off >= REG_CONFIG || len != 4 || (off & 3))
		return; /* config space is read-only for our devices */
	uint32_t v = (uint32_t)le_get(data, 4);
	if (off == REG_INTERRUPT_ACK) {
		/* Lock-free: the guest's interrupt handler must not wait for disk I/O. */
		__atomic_fetch_and(&d->interrupt_status, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	/* Lock order everywhere: io_lock, then lock. */
	pthread_mutex_lock(&d->io_lock);
	pthread_mutex_lock(&d->lock);
	reg_write(d, off, v);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->io_lock);
}

static void virtio_reset(void *dev)
{
	struct virtio_dev *d = dev;
	pthread_mutex_lock(&d->io_lock);
	pthread_mutex_lock(&d->lock);
	device_reset(d);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->io_lock);
}

static void virtio_save(void *dev, struct unit_writer *w)
{
	struct virtio_dev *d = dev;
	pthread_mutex_lock(&d->io_lock); /* no request half done: used_idx says it all */
	quiesce_locked(d);
	pthread_mutex_lock(&d->lock);
	uw_u32(w, d->status);
	uw_u64(w, d->driver_features);
	uw_u32(w, d->dev_features_sel);
	uw_u32(w, d->drv_features_sel);
	uw_u32(w, d->queue_sel);
	uw_u32(w, d->config_generation);
	uw_u32(w, __atomic_load_n(&d->interrupt_status, __ATOMIC_SEQ_CST));
	uw_u32(w, (uint32_t)d->ops->nqueues);
	for (int i = 0; i < d->ops->nqueues; i++) {
		struct virtq *q = &d->q[i];
		uw_u16(w, q->size);
		uw_u8(w, q->ready);
		uw_u64(w, q->desc_gpa);
		uw_u64(w, q->avail_gpa);
		uw_u64(w, q->used_gpa);
		uw_u16(w, q->last_avail);
		uw_u16(w, q->used_idx);
		uw_u16(w, q->signalled);
	}
	if (d->ops->save) {
		uw_u32(w, d->ops->state_version);
		d->ops->save(d, w);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->io_lock);
}

static int virtio_load(void *dev, struct unit_reader *r, uint32_t version)
{
	struct virtio_dev *d = dev;
	char err[160];
	if (version != 1)
		return -1;
	uint32_t status = ur_u32(r);
	uint64_t drv = ur_u64(r);
	uint32_t dsel = ur_u32(r), drsel = ur_u32(r), qsel = ur_u32(r), gen = ur_u32(r);
	uint32_t isr = ur_u32(r), nq = ur_u32(r);
	if (r->failed || nq != (uint32_t)d->ops->nqueues || (drv & ~d->features) || isr > 3)
		return -1;
	struct virtq qs[VIRTIO_MAX_QUEUES];
	memset(qs, 0, sizeof(qs));
	for (uint32_t i = 0; i < nq; i++) {
		qs[i].size = ur_u16(r);
		qs[i].ready = ur_u8(r);
		qs[i].desc_gpa = ur_u64(r);
		qs[i].avail_gpa = ur_u64(r);
		qs[i].used_gpa = ur_u64(r);
		qs[i].last_avail = ur_u16(r);
		qs[i].used_idx = ur_u16(r);
		qs[i].signalled = ur_u16(r);
		qs[i].event_idx = !!(drv & VIRTIO_F_EVENT_IDX);
		if (qs[i].ready > 1)
			return -1;
		if (qs[i].ready) {
			uint16_t la = qs[i].last_avail, ui = qs[i].used_idx, sg = qs[i].signalled;
			if (virtq_activate(&qs[i], d->mem, err, sizeof(err)))
				return -1; /* rings must lie in the restored RAM */
			qs[i].last_avail = la;
			qs[i].used_idx = ui;
			qs[i].signalled = sg;
		}
	}
	pthread_mutex_lock(&d->io_lock);
	quiesce_locked(d);
	pthread_mutex_lock(&d->lock);
	if (d->ops->load && d->ops->load(d, r, ur_u32(r)) < 0) {
		pthread_mutex_unlock(&d->lock);
		pthread_mutex_unlock(&d->io_lock);
		return -1;
	}
	if (!ur_done(r)) {
		pthread_mutex_unlock(&d->lock);
		pthread_mutex_unlock(&d->io_lock);
		return -1;
	}
	memcpy(d->q, qs, sizeof(qs));
	d->status = status;
	d->driver_features = drv;
	d->dev_features_sel = dsel;
	d->drv_features_sel = drsel;
	d->queue_sel = qsel;
	d->config_generation = gen;
	__atomic_store_n(&d->interrupt_status, isr, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->io_lock);
	return 0;
}

const struct device_ops virtio_mmio_ops = {
    .name = "virtio-mmio",
    .version = 1,
    .read = virtio_read,
    .write = virtio_write,
    .reset = virtio_reset,
    .save = virtio_save,
    .load = virtio_load,
};

/* ---- I/O thread ---- */

enum { EV_CTL = VIRTIO_MAX_QUEUES, EV_BACKEND };

int virtio_live(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	int live = !d->quiesced && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
		   !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
	pthread_mutex_unlock(&d->lock);
	return live;
}

static void serve_queues(struct virtio_dev *d, const int *kicked, int backend)
{
	pthread_mutex_lock(&d->io_lock);
	serving = d;
	int live = virtio_live(d);
	for (int i = 0; live && i < d->ops->nqueues; i++) {
		if (!kicked[i] || !d->q[i].ready)
			continue;
		d->ops->process(d, i);
		live = virtio_live(d);
	}
	if (backend) {
		/* Readable while nobody can take its data, it would wake us forever. */
		if (live)
			d->ops->backend_ready(d);
		else
			virtio_poll_backend(d, 0);
	}
	serving = NULL;
	if (d->irq_deferred) {
		d->irq_deferred = 0;
		raise_interrupt(d, INT_USED);
	}
	pthread_mutex_unlock(&d->io_lock);
}

static void *io_thread(void *arg)
{
	struct virtio_dev *d = arg;
	seccomp_enter((enum thread_kind)d->thread_kind);
	for (;;) {
		struct epoll_event evs[VIRTIO_MAX_QUEUES + 2];
		int n = epoll_wait(d->epfd, evs, VIRTIO_MAX_QUEUES + 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("%s: epoll_wait failed", d->label);
		}
		int kicked[VIRTIO_MAX_QUEUES] = {0}, backend = 0;
		for (int i = 0; i < n; i++) {
			uint64_t count;
			int idx = (int)evs[i].data.u32;
			if (idx == EV_BACKEND) {
				backend = 1; /* the device reads it */
				continue;
			}
			int fd = idx == EV_CTL ? d->ctl_fd : d->kick_fd[idx];
			if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				die_errno("%s: eventfd read failed", d->label);
			if (idx == EV_CTL) /* activation: look at every queue */
				for (int k = 0; k < VIRTIO_MAX_QUEUES; k++)
					kicked[k] = 1;
			else
				kicked[idx] = 1;
		}
		if (__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE))
			return NULL;
		serve_queues(d, kicked, backend);
	}
}

static int new_eventfd(struct virtio_dev *d)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		die_errno("%s: eventfd failed", d->label);
	return fd;
}

static void watch(struct virtio_dev *d, int fd, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("%s: epoll_ctl failed", d->label);
}

void virtio_watch_backend(struct virtio_dev *d, int fd)
{
	struct epoll_event ev = {.events = 0, .data.u32 = EV_BACKEND};
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("%s: epoll_ctl on its backend failed", d->label);
	d->backend_fd = fd;
	d->backend_polled = 0;
}

void virtio_poll_backend(struct virtio_dev *d, int on)
{
	if (d->backend_fd < 0 || d->backend_polled == on)
		return;
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u32 = EV_BACKEND};
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->backend_fd, &ev) < 0)
		die_errno("%s: epoll_ctl on its backend failed", d->label);
	d->backend_polled = on;
}

void virtio_drop_backend(struct virtio_dev *d)
{
	if (d->backend_fd < 0)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->backend_fd, NULL);
	d->backend_fd = -1;
	d->backend_polled = 0;
}

void virtio_bind(struct virtio_dev *d)
{
	for (int i = 0; i < d->ops->nqueues; i++)
		if (d->hooks->ioeventfd(d->hooks->ctx, d->base + REG_QUEUE_NOTIFY, (uint32_t)i,
					d->kick_fd[i]) < 0)
			die_errno("%s: KVM_IOEVENTFD for queue %d failed", d->label, i);
	if (d->hooks->irqfd(d->hooks->ctx, d->irq, d->irq_fd) < 0)
		die_errno("%s: KVM_IRQFD on IRQ %u failed", d->label, d->irq);
}

void virtio_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
		 uint64_t device_features, const struct machine_hooks *hooks,
		 const struct guest_mem *mem, uint64_t base, uint32_t irq, int thread_kind)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->features = device_features | transport_features;
	d->hooks = hooks;
	d->mem = mem;
	d->base = base;
	d->irq = irq;
	d->thread_kind = thread_kind;
	snprintf(d->label, sizeof(d->label), "%s@0x%llx", ops->name, (unsigned long long)base);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->io_lock, NULL);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		die_errno("%s: epoll_create1 failed", d->label);
	for (int i = 0; i < ops->nqueues; i++) {
		d->kick_fd[i] = new_eventfd(d);
		watch(d, d->kick_fd[i], (uint32_t)i);
	}
	d->ctl_fd = new_eventfd(d);
	watch(d, d->ctl_fd, EV_CTL);
	d->irq_fd = new_eventfd(d);
	d->backend_fd = -1;
}

void virtio_stop(struct virtio_dev *d)
{
	if (!d->thread)
		return;
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	wake_thread(d);
	pthread_join(d->thread, NULL);
	d->thread = 0;
	virtio_drain(d);
	if (d->ops->stop)
		d->ops->stop(d);
}

void virtio_quiesce(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->io_lock); /* waits for the request being served */
	quiesce_locked(d);		 /* and for those in flight elsewhere */
	pthread_mutex_lock(&d->lock);
	d->quiesced = 1;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->io_lock);
}

void virtio_unquiesce(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->quiesced = 0;
	pthread_mutex_unlock(&d->lock);
	wake_thread(d); /* kicks that came meanwhile were left for now */
}

void virtio_restart(struct virtio_dev *d)
{
	if (d->thread)
		return;
	__atomic_store_n(&d->stop, 0, __ATOMIC_RELEASE);
	virtio_start(d);
	wake_thread(d); /* look at every queue: kicks may have come while it was stopped */
}

void virtio_start(struct virtio_dev *d)
{
	if (d->ops->start)
		d->ops->start(d);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int err = pthread_create(&d->thread, &attr, io_thread, d);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = err;
		die_errno("%s: cannot start its I/O thread", d->label);
	}
}

/* Split virtqueue walking with every guest value checked. */
#include "virtq.h"

#include <stdio.h>
#include <string.h>

/* Ring layouts (virtio 1.x, split): little-endian, as x86 is. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4
#define AVAIL_F_NO_INTERRUPT 1

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint16_t ld16(volatile uint8_t *p)
{
	return __atomic_load_n((volatile uint16_t *)p, __ATOMIC_RELAXED);
}

static void st16(volatile uint8_t *p, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)p, v, __ATOMIC_RELAXED);
}

static void read_desc(volatile uint8_t *table, uint16_t i, struct desc *d)
{
	volatile uint8_t *p = table + 16u * i;
	d->addr = *(volatile uint64_t *)p;
	d->len = *(volatile uint32_t *)(p + 8);
	d->flags = *(volatile uint16_t *)(p + 12);
	d->next = *(volatile uint16_t *)(p + 14);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_activate(struct virtq *q, const struct guest_mem *m, char *err, size_t errlen)
{
	uint64_t n = q->size;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1))) {
		snprintf(err, errlen, "queue size %u is not a power of two up to %u", q->size,
			 VIRTQ_MAX_SIZE);
		return -1;
	}
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
		snprintf(err, errlen, "ring misaligned (desc 0x%llx, avail 0x%llx, used 0x%llx)",
			 (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
			 (unsigned long long)q->used_gpa);
		return -1;
	}
	q->desc = gpa_to_hva(m, q->desc_gpa, 16 * n);
	q->avail = gpa_to_hva(m, q->avail_gpa, 6 + 2 * n);
	q->used = gpa_to_hva(m, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used) {
		snprintf(err, errlen,
			 "ring outside guest RAM (desc 0x%llx, avail 0x%llx, used 0x%llx)",
			 (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
			 (unsigned long long)q->used_gpa);
		return -1;
	}
	q->last_avail = q->used_idx = q->signalled = 0;
	return 0;
}

/* Add one buffer to the chain, enforcing readable-before-writable. */
static int add_buffer(struct vchain *c, const struct guest_mem *m, const struct desc *d,
		      int *seen_write, char *err, size_t errlen)
{
	int w = d->flags & VIRTQ_DESC_F_WRITE;
	void *p = gpa_to_hva(m, d->addr, d->len);
	if (!p) {
		snprintf(err, errlen, "descriptor addr 0x%llx len %u outside guest RAM",
			 (unsigned long long)d->addr, d->len);
		return -1;
	}
	if (!w && *seen_write) {
		snprintf(err, errlen, "device-readable buffer after a writable one");
		return -1;
	}
	if (c->nout + c->nin >= VIRTQ_MAX_SEGS) {
		snprintf(err, errlen, "chain longer than %d buffers", VIRTQ_MAX_SEGS);
		return -1;
	}
	if (w) {
		*seen_write = 1;
		c->in[c->nin++] = (struct iovec){p, d->len};
		c->in_len += d->len;
	} else {
		c->out[c->nout++] = (struct iovec){p, d->len};
		c->out_len += d->len;
	}
	return 0;
}

/* Walk an indirect table: no nesting, indices inside it, at most its size. */
static int walk_indirect(struct vchain *c, const struct guest_mem *m, const struct desc *ind,
			 int *seen_write, char *err, size_t errlen)
{
	if (ind->flags & VIRTQ_DESC_F_NEXT) {
		snprintf(err, errlen, "descriptor has both INDIRECT and NEXT");
		return -1;
	}
	if (ind->len == 0 || ind->len % 16 || ind->len / 16 > VIRTQ_MAX_SEGS) {
		snprintf(err, errlen, "indirect table length %u is not 16 x 1..%d", ind->len,
			 VIRTQ_MAX_SEGS);
		return -1;
	}
	volatile uint8_t *table = gpa_to_hva(m, ind->addr, ind->len);
	if (!table) {
		snprintf(err, errlen, "indirect table addr 0x%llx len %u outside guest RAM",
			 (unsigned long long)ind->addr, ind->len);
		return -1;
	}
	uint16_t count = (uint16_t)(ind->len / 16), i = 0;
	for (int ttl = count; ttl > 0; ttl--) {
		struct desc d;
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			snprintf(err, errlen, "nested indirect descriptor");
			return -1;
		}
		if (add_buffer(c, m, &d, seen_write, err, errlen))
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= count) {
			snprintf(err, errlen, "indirect next index %u beyond table of %u", d.next,
				 count);
			return -1;
		}
		i = d.next;
	}
	snprintf(err, errlen, "indirect chain loops (longer than its table of %u)", count);
	return -1;
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct vchain *c, char *err,
	      size_t errlen)
{
	uint16_t avail_idx = ld16(q->avail + AVAIL_IDX);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size) {
		snprintf(err, errlen, "available index jumped by %u on a queue of %u", pending,
			 q->size);
		return -1;
	}
	/* Read the ring entry and descriptors only after seeing the index. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head = ld16(q->avail + AVAIL_RING + 2u * (q->last_avail % q->size));
	if (head >= q->size) {
		snprintf(err, errlen, "chain head %u beyond queue of %u", head, q->size);
		return -1;
	}
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	int seen_write = 0;
	uint16_t i = head;
	for (int ttl = q->size; ttl > 0; ttl--) {
		struct desc d;
		read_desc(q->desc, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (walk_indirect(c, m, &d, &seen_write, err, errlen))
				return -1;
			q->last_avail++;
			return 1;
		}
		if (add_buffer(c, m, &d, &seen_write, err, errlen))
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
			q->last_avail++;
			return 1;
		}
		if (d.next >= q->size) {
			snprintf(err, errlen, "descriptor %u: next index %u beyond queue of %u", i,
				 d.next, q->size);
			return -1;
		}
		i = d.next;
	}
	snprintf(err, errlen, "descriptor chain from head %u loops (longer than the queue)", head);
	return -1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	volatile uint8_t *e = q->used + USED_RING + 8u * (q->used_idx % q->size);
	*(volatile uint32_t *)e = head;
	*(volatile uint32_t *)(e + 4) = len;
	q->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st16(q->used + USED_IDX, q->used_idx);
}

int virtq_should_notify(struct virtq *q)
{
	/* Order the used index store before reading the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled, now = q->used_idx;
	q->signalled = now;
	if (q->event_idx) {
		/* Did used_event fall in the entries published since the last check? */
		uint16_t used_event = ld16(q->avail + AVAIL_RING + 2u * q->size);
		return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
	}
	return !(ld16(q->avail + AVAIL_FLAGS) & AVAIL_F_NO_INTERRUPT);
}

int virtq_enable_kicks(struct virtq *q)
{
	if (q->event_idx)
		st16(q->used + USED_RING + 8u * q->size, q->last_avail); /* avail_event */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(q->avail + AVAIL_IDX) != q->last_avail;
}

/* Copy between an iovec array (from byte skip on) and buf; to_iov picks the direction. */
static size_t iov_copy(const struct iovec *iov, int n, size_t skip, void *buf, size_t len,
		       int to_iov)
{
	size_t done = 0;
	for (int i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - skip;
		if (take > len - done)
			take = len - done;
		uint8_t *g = (uint8_t *)iov[i].iov_base + skip, *b = (uint8_t *)buf + done;
		memcpy(to_iov ? g : b, to_iov ? b : g, take);
		done += take;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, 0);
}

size_t buf_to_iov(const struct iovec *iov, int n, size_t skip, const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (void *)buf, len, 1);
}

int iov_slice(const struct iovec *iov, int n, size_t skip, size_t len, struct iovec *out, int max)
{
	int k = 0;
	for (int i = 0; i < n && len && k < max; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - skip;
		if (take > len)
			take = len;
		out[k++] = (struct iovec){(uint8_t *)iov[i].iov_base + skip, take};
		len -= take;
		skip = 0;
	}
	return k;
}

/*
 * virtio-blk with its worker pool, driven like the I/O thread drives it: a
 * driver-side queue in fake guest RAM, many requests in flight at once. Every
 * request is published exactly once with status OK after quiesce, the data
 * lands where it should (raw file and ephemeral overlay, whose sector map is
 * shared by concurrent 512-byte writes), and reads see the writes.
 */
#include "check.h"

#include "../../devices/virtio/blk.h"
#include "../../log.h"
#include "../../seccomp/seccomp.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM (4u << 20)
#define QSIZE 256
#define DESC 0x0000u
#define AVAIL 0x1000u
#define USED 0x2000u
#define HDR 0x10000u	/* 16 bytes per request */
#define STATUS 0x18000u /* one byte per request */
#define DATA 0x100000u	/* 4 KiB per request */
#define NREQ 64		/* three descriptors each: header, data, status */
#define DISK (1u << 20)

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_blk blk;
static uint16_t avail_idx;

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = ram + DESC + 16 * i;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Request slot i (descriptors 3i..3i+2): type at sector, len data bytes at DATA + 4 KiB * i. */
static void make_req(unsigned i, uint32_t type, uint64_t sector, uint32_t len)
{
	uint8_t *h = ram + HDR + 16 * i;
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	ram[STATUS + i] = 0xff;
	uint16_t d0 = (uint16_t)(3 * i), data_flags = type == 0 ? 2 : 0; /* reads: writable */
	put_desc(d0, HDR + 16 * i, 16, 1, (uint16_t)(len ? d0 + 1 : d0 + 2));
	if (len)
		put_desc(d0 + 1u, DATA + 4096u * i, len, (uint16_t)(data_flags | 1), d0 + 2);
	put_desc(d0 + 2u, STATUS + i, 1, 2, 0);
	uint16_t head = d0;
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
}

/* Publish the new requests, run the dispatcher once, wait for all of them. */
static void kick_and_quiesce(void)
{
	__atomic_store_n((uint16_t *)(ram + AVAIL + 2), avail_idx, __ATOMIC_RELEASE);
	blk_pool_process(&blk.dev, 0);
	blk_pool_quiesce(&blk.dev);
}

/* After quiesce: the used ring holds each of the n heads of [first, first + n) once. */
static void check_used(unsigned n)
{
	uint16_t used;
	memcpy(&used, ram + USED + 2, 2);
	CHECK_EQ(used, avail_idx);
	CHECK_EQ(blk.pool.inflight, 0);
	int seen[NREQ] = {0};
	for (unsigned k = 0; k < n; k++) {
		uint32_t id;
		memcpy(&id, ram + USED + 4 + 8 * ((uint16_t)(used - n + k) % QSIZE), 4);
		CHECK(id % 3 == 0 && id / 3 < NREQ);
		if (id % 3 == 0 && id / 3 < NREQ)
			seen[id / 3]++;
	}
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(seen[i], 1);
		CHECK_EQ(ram[STATUS + i], 0);
	}
}

static void setup(const char *path, int ephemeral)
{
	memset(ram, 0, RAM);
	memset(&blk, 0, sizeof(blk));
	avail_idx = 0;
	blk_open(&blk.be, path, 0, ephemeral);
	struct virtio_dev *d = &blk.dev;
	d->ops = &virtio_blk_ops;
	d->mem = &mem;
	d->irq_fd = -1; /* interrupts go nowhere */
	snprintf(d->label, sizeof(d->label), "test-blk");
	pthread_mutex_init(&d->lock, NULL);
	d->status = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	struct virtq *q = &d->q[0];
	q->size = QSIZE;
	q->desc_gpa = DESC;
	q->avail_gpa = AVAIL;
	q->used_gpa = USED;
	char err[160];
	CHECK(virtq_activate(q, &mem, err, sizeof(err)) == 0);
	q->ready = 1;
	blk_pool_start(d);
	CHECK_EQ(blk.pool.nthreads, BLK_WORKERS);
}

static void teardown(void)
{
	blk_pool_stop(&blk.dev);
	close(blk.be.fd);
	if (blk.be.overlay_fd >= 0)
		close(blk.be.overlay_fd);
	free(blk.be.written);
	free(blk.pool.slots);
}

static char *temp_image(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/vmm-test-blk-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, DISK) < 0)
		abort();
	close(fd);
	return path;
}

/* 64 writes of 4 KiB, a flush, then 64 reads: more than the slots, all in flight. */
TEST(raw_writes_then_reads_in_parallel)
{
	char *path = temp_image();
	setup(path, 0);
	for (unsigned i = 0; i < NREQ; i++) {
		memset(ram + DATA + 4096 * i, (int)(i + 1), 4096);
		make_req(i, 1, 8 * (uint64_t)i, 4096);
	}
	kick_and_quiesce();
	check_used(NREQ);
	make_req(0, 4, 0, 0); /* flush: completes after every write above */
	kick_and_quiesce();
	check_used(1);
	memset(ram + DATA, 0, 4096 * NREQ);
	for (unsigned i = 0; i < NREQ; i++)
		make_req(i, 0, 8 * (uint64_t)i, 4096);
	kick_and_quiesce();
	check_used(NREQ);
	int fd = open(path, O_RDONLY);
	uint8_t buf[4096];
	for (unsigned i = 0; i < NREQ; i++) {
		CHECK_EQ(ram[DATA + 4096 * i], i + 1);
		CHECK_EQ(ram[DATA + 4096 * i + 4095], i + 1);
		CHECK(pread(fd, buf, 4096, 4096 * (off_t)i) == 4096 && buf[0] == (uint8_t)(i + 1) &&
		      buf[4095] == (uint8_t)(i + 1));
	}
	close(fd);
	teardown();
	unlink(path);
}

/*
 * Ephemeral: 64 concurrent 512-byte writes to neighbouring sectors share the
 * overlay map's bytes; a lost bit would make a sector read back the image's
 * zeros. Many rounds, each on fresh sectors; the image stays untouched.
 */
TEST(ephemeral_neighbour_sectors_in_parallel)
{
	char *path = temp_image();
	setup(path, 1);
	for (unsigned round = 0; round < DISK / 512 / NREQ; round++) {
		for (unsigned i = 0; i < NREQ; i++) {
			memset(ram + DATA + 4096 * i, (int)(round * 3 + i + 1) | 1, 512);
			make_req(i, 1, (uint64_t)round * NREQ + i, 512);
		}
		kick_and_quiesce();
		check_used(NREQ);
	}
	memset(ram + DATA, 0, 4096 * NREQ);
	for (unsigned i = 0; i < NREQ; i++) /* 64 x 4 KiB reads cover the first 512 sectors */
		make_req(i, 0, 8 * (uint64_t)i, 4096);
	kick_and_quiesce();
	check_used(NREQ);
	unsigned wrong = 0;
	for (unsigned s = 0; s < 512; s++) {
		unsigned round = s / NREQ, i = s % NREQ;
		uint8_t want = (uint8_t)((round * 3 + i + 1) | 1);
		if (ram[DATA + 512 * s] != want || ram[DATA + 512 * s + 511] != want)
			wrong++;
	}
	CHECK_EQ(wrong, 0);
	int fd = open(path, O_RDONLY);
	uint8_t buf[4096];
	int zero = 1;
	for (off_t off = 0; off < DISK; off += 4096) {
		CHECK(pread(fd, buf, 4096, off) == 4096);
		for (int k = 0; k < 4096; k++)
			zero &= buf[k] == 0;
	}
	CHECK(zero);
	close(fd);
	teardown();
	unlink(path);
}

int main(void)
{
	check_suite = "unit/blk_pool";
	log_muted = 1;
	seccomp_setup(SECCOMP_OFF); /* the workers would confine the test process */
	ram = aligned_alloc(4096, RAM);
	mem = (struct guest_mem){.host = ram, .size = RAM, .low_size = RAM};
	for (int k = 0; k < 5; k++) { /* races show up now and then: several passes */
		RUN(raw_writes_then_reads_in_parallel);
		RUN(ephemeral_neighbour_sectors_in_parallel);
	}
	free(ram);
	return check_summary();
}

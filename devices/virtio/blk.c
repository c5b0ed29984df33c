/* virtio-blk: request parsing and the raw-file backend with its ephemeral overlay. */
#include "blk.h"

#include "../../log.h"
#include "../../snapshot/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_F_SEG_MAX (1ull << 2)
#define BLK_F_RO (1ull << 5)
#define BLK_F_BLK_SIZE (1ull << 6)
#define BLK_F_FLUSH (1ull << 9)
#define BLK_F_DISCARD (1ull << 13)
#define BLK_F_WRITE_ZEROES (1ull << 14)

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13

#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define MAX_SEGMENTS 32		    /* discard / write-zeroes ranges per request */
#define MAX_RANGE_SECTORS 0x400000u /* 2 GiB per range */

/* ---- backend ---- */

void blk_open(struct blk_backend *be, const char *path, int ro, int ephemeral)
{
	memset(be, 0, sizeof(*be));
	be->path = path;
	be->ro = ro;
	be->ephemeral = ephemeral;
	be->overlay_fd = -1;
	int writable = !ro && !ephemeral;
	be->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (be->fd < 0) {
		if (writable && (errno == EACCES || errno == EROFS || errno == EPERM))
			die_usage("--disk %s: not writable (%s); add ,ro or ,ephemeral", path,
				  strerror(errno));
		die_usage("--disk %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(be->fd, &st) < 0)
		die_usage("--disk %s: %s", path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		be->is_file = 1;
		be->size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(be->fd, BLKGETSIZE64, &be->size) < 0)
			die_usage("--disk %s: cannot read the device size: %s", path,
				  strerror(errno));
	} else {
		die_usage("--disk %s: not a regular file or block device", path);
	}
	if (be->size == 0 || be->size % BLK_SECTOR)
		die_usage("--disk %s: size %llu bytes is not a positive multiple of 512", path,
			  (unsigned long long)be->size);
	/* One writer per image; readers (ro, ephemeral) may share it. */
	if (flock(be->fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
		die_usage("--disk %s: the image is in use by another VM (%s)", path,
			  writable ? "it must not be shared while writable" : "someone writes it");
	uint64_t h = 1469598103934665603ull;
	uint64_t id[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
	for (int i = 0; i < 16; i++)
		h = (h ^ ((uint8_t *)id)[i]) * 1099511628211ull;
	char s[21];
	snprintf(s, sizeof(s), "vmm-%016llx", (unsigned long long)h);
	memcpy(be->serial, s, 20);
	if (ephemeral) {
		const char *dir = getenv("TMPDIR");
		be->overlay_fd =
		    open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (be->overlay_fd < 0)
			die("--disk %s: cannot create the ephemeral overlay in %s: %s", path,
			    dir && *dir ? dir : "/var/tmp", strerror(errno));
		if (ftruncate(be->overlay_fd, (off_t)be->size) < 0)
			die_errno("--disk %s: cannot size the ephemeral overlay", path);
		be->written = calloc(1, (size_t)(be->size / BLK_SECTOR / 8 + 1));
		if (!be->written)
			die("--disk %s: out of memory for the overlay map", path);
	}
}

uint64_t blk_features(const struct blk_backend *be)
{
	uint64_t f = BLK_F_SEG_MAX | BLK_F_BLK_SIZE | BLK_F_FLUSH;
	if (be->ro)
		f |= BLK_F_RO;
	else if (be->is_file)
		f |= BLK_F_DISCARD | BLK_F_WRITE_ZEROES;
	return f;
}

/*
 * The overlay map is shared by the requests in flight: bits are set with an
 * atomic OR (two writes to neighbouring sectors share a byte) and only after
 * the data reached the overlay, so a reader that sees a bit finds the data.
 */
static int bit(const uint8_t *map, uint64_t s)
{
	return (__atomic_load_n(&map[s / 8], __ATOMIC_ACQUIRE) >> (s % 8)) & 1;
}

static void set_bits(uint8_t *map, uint64_t s, uint64_t n)
{
	while (n) {
		unsigned first = (unsigned)(s % 8), take = n < 8 - first ? (unsigned)n : 8 - first;
		uint8_t mask = (uint8_t)(((1u << take) - 1) << first);
		__atomic_fetch_or(&map[s / 8], mask, __ATOMIC_RELEASE);
		s += take;
		n -= take;
	}
}

/* preadv/pwritev until done; -1 on error or a short transfer. */
static int rw_all(int fd, const struct iovec *iov, int n, uint64_t off, size_t len, int write)
{
	struct iovec part[VIRTQ_MAX_SEGS];
	size_t done = 0;
	while (done < len) {
		int k = iov_slice(iov, n, done, len - done, part, VIRTQ_MAX_SEGS);
		ssize_t r = write ? pwritev(fd, part, k, (off_t)(off + done))
				  : preadv(fd, part, k, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Read [off, off + len): overlay sectors from the overlay, the rest from the image. */
static int be_read(struct blk_backend *be, const struct iovec *iov, int n, uint64_t off, size_t len)
{
	if (!be->ephemeral)
		return rw_all(be->fd, iov, n, off, len, 0);
	struct iovec part[VIRTQ_MAX_SEGS];
	uint64_t s = off / BLK_SECTOR, end = s + len / BLK_SECTOR;
	while (s < end) {
		int in_overlay = bit(be->written, s);
		uint64_t e = s + 1;
		while (e < end && bit(be->written, e) == in_overlay)
			e++;
		size_t skip = (size_t)((s * BLK_SECTOR) - off),
		       run = (size_t)((e - s) * BLK_SECTOR);
		int k = iov_slice(iov, n, skip, run, part, VIRTQ_MAX_SEGS);
		if (rw_all(in_overlay ? be->overlay_fd : be->fd, part, k, s * BLK_SECTOR, run, 0))
			return -1;
		s = e;
	}
	return 0;
}

static int be_write(struct blk_backend *be, const struct iovec *iov, int n, uint64_t off,
		    size_t len)
{
	int fd = be->ephemeral ? be->overlay_fd : be->fd;
	if (rw_all(fd, iov, n, off, len, 1))
		return -1;
	if (be->ephemeral)
		set_bits(be->written, off / BLK_SECTOR, len / BLK_SECTOR);
	return 0;
}

/* Zero (or discard, which reads back as zero here) [off, off + len). */
static int be_zero(struct blk_backend *be, uint64_t off, uint64_t len)
{
	int fd = be->ephemeral ? be->overlay_fd : be->fd;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0) {
		/* No hole punching here: write zeros instead. */
		static uint8_t zeros[65536]; /* .bss: costs no bytes in the binary */
		for (uint64_t done = 0; done < len;) {
			size_t chunk =
			    len - done < sizeof(zeros) ? (size_t)(len - done) : sizeof(zeros);
			ssize_t r = pwrite(fd, zeros, chunk, (off_t)(off + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			done += (uint64_t)r;
		}
	}
	if (be->ephemeral)
		set_bits(be->written, off / BLK_SECTOR, len / BLK_SECTOR);
	return 0;
}

/* ---- the ephemeral overlay in snapshots ---- */

#define OVERLAY_MAX_BYTES (48u << 20) /* a unit stays well inside the unit table's limit */

static int overlay_io(int fd, void *buf, size_t len, uint64_t off, int write)
{
	struct iovec v = {buf, len};
	return rw_all(fd, &v, 1, off, len, write);
}

int blk_overlay_written(const struct blk_backend *be)
{
	if (!be->ephemeral || !be->written)
		return 0;
	for (uint64_t k = 0; k <= be->size / BLK_SECTOR / 8; k++)
		if (be->written[k])
			return 1;
	return 0;
}

int blk_overlay_save(const struct blk_backend *be, struct unit_writer *w)
{
	uint64_t sectors = be->size / BLK_SECTOR, bytes = 0;
	uint8_t buf[64 * BLK_SECTOR];
	uw_u64(w, sectors);
	for (uint64_t s = 0; s < sectors;) {
		if (!bit(be->written, s)) {
			s++;
			continue;
		}
		uint64_t e = s;
		while (e < sectors && e - s < 64 && bit(be->written, e))
			e++;
		size_t n = (size_t)(e - s) * BLK_SECTOR;
		if ((bytes += n) > OVERLAY_MAX_BYTES ||
		    overlay_io(be->overlay_fd, buf, n, s * BLK_SECTOR, 0))
			return -1;
		uw_u64(w, s);
		uw_u32(w, (uint32_t)(e - s));
		uw_bytes(w, buf, n);
		s = e;
	}
	uw_u64(w, UINT64_MAX); /* end */
	return w->failed ? -1 : 0;
}

int blk_overlay_load(struct blk_backend *be, const uint8_t *data, size_t len)
{
	struct unit_reader r = {data, len, 0, 0};
	uint64_t sectors = be->size / BLK_SECTOR;
	uint8_t buf[64 * BLK_SECTOR];
	if (!be->ephemeral || ur_u64(&r) != sectors)
		return -1;
	for (;;) {
		uint64_t s = ur_u64(&r);
		if (r.failed)
			return -1;
		if (s == UINT64_MAX)
			return ur_done(&r) ? 0 : -1;
		uint32_t n = ur_u32(&r);
		if (r.failed || n == 0 || n > 64 || s >= sectors || n > sectors - s)
			return -1;
		ur_bytes(&r, buf, (size_t)n * BLK_SECTOR);
		if (r.failed ||
		    overlay_io(be->overlay_fd, buf, (size_t)n * BLK_SECTOR, s * BLK_SECTOR, 1))
			return -1;
		set_bits(be->written, s, n);
	}
}

/* ---- requests ---- */

static int range_ok(const struct blk_backend *be, uint64_t sector, uint64_t bytes)
{
	uint64_t sectors = be->size / BLK_SECTOR;
	return sector <= sectors && bytes / BLK_SECTOR <= sectors - sector;
}

static uint8_t do_segments(struct blk_backend *be, const struct vchain *c, size_t len, int discard)
{
	if (be->ro)
		return S_IOERR;
	if (len == 0 || len % 16 || len / 16 > MAX_SEGMENTS)
		return S_IOERR;
	for (size_t i = 0; i < len / 16; i++) {
		uint8_t seg[16];
		iov_to_buf(c->out, c->nout, 16 + 16 * i, seg, 16);
		uint64_t sector, n;
		uint32_t count;
		memcpy(&sector, seg, 8);
		memcpy(&count, seg + 8, 4);
		n = count;
		if (count == 0 || count > MAX_RANGE_SECTORS ||
		    !range_ok(be, sector, n * BLK_SECTOR))
			return S_IOERR;
		(void)discard; /* both leave zeros behind: discard is a hint we honour fully */
		if (be_zero(be, sector * BLK_SECTOR, n * BLK_SECTOR))
			return S_IOERR;
	}
	return S_OK;
}

int blk_check_chain(struct virtio_dev *d, const struct vchain *c, struct blk_hdr *h)
{
	if (c->out_len < 16) {
		virtio_fault(d, "request header missing (%zu device-readable bytes)", c->out_len);
		return -1;
	}
	if (c->in_len < 1) {
		virtio_fault(d, "status byte missing (no device-writable buffer)");
		return -1;
	}
	uint8_t raw[16];
	iov_to_buf(c->out, c->nout, 0, raw, 16);
	memcpy(&h->type, raw, 4);
	memcpy(&h->sector, raw + 8, 8);
	if (h->type == T_IN && c->out_len > 16) {
		virtio_fault(d, "read request with its data in device-readable buffers");
		return -1;
	}
	if (h->type == T_OUT && c->in_len > 1) {
		virtio_fault(d, "write request with device-writable data buffers");
		return -1;
	}
	return 0;
}

int blk_is_flush(const struct blk_hdr *h)
{
	return h->type == T_FLUSH;
}

uint32_t blk_execute(struct blk_backend *be, const struct vchain *c, const struct blk_hdr *h)
{
	uint8_t status = S_OK;
	uint32_t type = h->type, written = 1;
	uint64_t sector = h->sector;
	size_t out_data = c->out_len - 16, in_data = c->in_len - 1;
	switch (type) {
	case T_IN:
		if (in_data % BLK_SECTOR || !range_ok(be, sector, in_data))
			status = S_IOERR;
		else if (be_read(be, c->in, c->nin, sector * BLK_SECTOR, in_data))
			status = S_IOERR;
		else
			written += (uint32_t)in_data;
		break;
	case T_OUT:
		if (be->ro || out_data % BLK_SECTOR || !range_ok(be, sector, out_data)) {
			status = S_IOERR;
		} else {
			struct iovec data[VIRTQ_MAX_SEGS];
			int k = iov_slice(c->out, c->nout, 16, out_data, data, VIRTQ_MAX_SEGS);
			if (be_write(be, data, k, sector * BLK_SECTOR, out_data))
				status = S_IOERR;
		}
		break;
	case T_FLUSH:
		if (!be->ro && !be->ephemeral && fdatasync(be->fd) < 0)
			status = S_IOERR;
		break;
	case T_GET_ID: {
		size_t n = in_data < 20 ? in_data : 20;
		buf_to_iov(c->in, c->nin, 0, be->serial, n);
		written += (uint32_t)n;
		break;
	}
	case T_DISCARD:
	case T_WRITE_ZEROES:
		if (!be->is_file)
			status = S_UNSUPP;
		else
			status = do_segments(be, c, out_data, type == T_DISCARD);
		break;
	default:
		status = S_UNSUPP;
		break;
	}
	buf_to_iov(c->in, c->nin, c->in_len - 1, &status, 1);
	return written;
}

int blk_handle_chain(struct virtio_dev *d, struct vchain *c, uint32_t *written)
{
	struct blk_hdr h;
	if (blk_check_chain(d, c, &h) < 0)
		return -1;
	*written = blk_execute(&((struct virtio_blk *)d)->be, c, &h);
	return 0;
}

void blk_process_for_fuzzing(struct virtio_dev *d)
{
	virtio_serve(d, 0, blk_handle_chain);
}

/* Config space (virtio spec 5.2.4), little-endian. */
static void blk_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct blk_backend *be = &((struct virtio_blk *)d)->be;
	uint8_t cfg[60] = {0};
	uint64_t cap = be->size / BLK_SECTOR;
	memcpy(cfg, &cap, 8);
	uint32_t seg_max = VIRTQ_MAX_SEGS - 2, blk_size = BLK_SECTOR,
		 max_sectors = MAX_RANGE_SECTORS, max_seg = MAX_SEGMENTS, align = 8;
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(cfg + 36, &max_sectors, 4); /* max_discard_sectors */
	memcpy(cfg + 40, &max_seg, 4);	   /* max_discard_seg */
	memcpy(cfg + 44, &align, 4);	   /* discard_sector_alignment */
	memcpy(cfg + 48, &max_sectors, 4); /* max_write_zeroes_sectors */
	memcpy(cfg + 52, &max_seg, 4);	   /* max_write_zeroes_seg */
	cfg[56] = 1;			   /* write_zeroes_may_unmap */
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

const struct virtio_dev_ops virtio_blk_ops = {
    .name = "virtio-blk",
    .device_id = 2,
    .nqueues = 1,
    .config_read = blk_config_read,
    .process = blk_pool_process,
    .reset = NULL,
    .quiesce = blk_pool_quiesce,
    .start = blk_pool_start,
    .stop = blk_pool_stop,
};

/*
 * Writing a snapshot file: units built in memory, then header, units, sparse
 * memory with per-chunk digests, footer, all into a temporary file that is
 * synced and renamed into place.
 */
#include "snapshot.h"

#include "../api.h"
#include "../log.h"
#include "kvmstate.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_MIN_MEM (1ull << 30) /* guests this big report progress */

/* ---- units ---- */

static size_t unit_begin(struct unit_writer *w, const char *name, uint32_t instance,
			 uint32_t version, uint32_t flags)
{
	size_t start = w->len;
	uint8_t name_buf[SNAP_NAME_LEN] = {0};
	memcpy(name_buf, name, strlen(name));
	uw_bytes(w, name_buf, sizeof(name_buf));
	uw_u32(w, instance);
	uw_u32(w, version);
	uw_u32(w, flags);
	uw_u32(w, 0); /* length, patched by unit_end */
	return start;
}

static void unit_end(struct unit_writer *w, size_t start)
{
	if (w->failed)
		return;
	uint32_t len = (uint32_t)(w->len - start - SNAP_UNIT_HDR);
	put_le(w->buf + start + 28, len, 4);
	static const uint8_t zero[8];
	uw_bytes(w, zero, (8 - (len & 7)) & 7);
}

struct unit_build {
	struct unit_writer *w;
	uint32_t count;
};

static int save_device(void *ctx, const struct bus_range *r, uint32_t inst)
{
	struct unit_build *b = ctx;
	size_t s = unit_begin(b->w, r->ops->name, inst, r->ops->version, 0);
	r->ops->save(r->dev, b->w);
	unit_end(b->w, s);
	b->count++;
	return 0;
}

static int build_units(struct vm *vm, struct unit_writer *w, uint32_t *count, char *err,
		       size_t errlen)
{
	size_t s = unit_begin(w, "machine", 0, MACHINE_UNIT_VERSION, 0);
	machine_unit_save(vm, w);
	unit_end(w, s);
	s = unit_begin(w, "vm", 0, VM_UNIT_VERSION, 0);
	if (vm_state_save(vm, w, err, errlen))
		return -1;
	unit_end(w, s);
	for (int i = 0; i < vm->ncpus; i++) {
		s = unit_begin(w, "vcpu", (uint32_t)i, VCPU_UNIT_VERSION, 0);
		if (vcpu_state_save(&vm->vcpus[i], w, err, errlen))
			return -1;
		unit_end(w, s);
	}
	struct unit_build b = {w, 2 + (uint32_t)vm->ncpus};
	for_each_device(vm, save_device, &b);
	/* Writes in an ephemeral overlay are disk contents the guest relies on. */
	for (int i = 0; i < vm->cfg->ndisks; i++) {
		if (!blk_overlay_written(&vm->blk[i].be))
			continue;
		s = unit_begin(w, "blk-overlay", (uint32_t)i, 1, 0);
		if (blk_overlay_save(&vm->blk[i].be, w))
			return snap_fail(err, errlen,
					 "disk %s: its ephemeral overlay cannot be saved "
					 "(unreadable, or more than 48 MiB written)",
					 vm->blk[i].be.path);
		unit_end(w, s);
		b.count++;
	}
	*count = b.count;
	if (w->failed)
		return snap_fail(err, errlen, "out of memory building the units");
	return 0;
}

/* ---- header ---- */

static void host_cpu_facts(uint8_t *h)
{
	unsigned a, b, c, d;
	__cpuid(0, a, b, c, d);
	put_le(h + H_VENDOR, b, 4);
	put_le(h + H_VENDOR + 4, d, 4);
	put_le(h + H_VENDOR + 8, c, 4);
	__cpuid(1, a, b, c, d);
	put_le(h + H_SIGNATURE, a, 4);
	for (int i = 0; i < SNAP_NFEAT; i++) {
		const struct snap_feature_leaf *f = &snap_feature_leaves[i];
		unsigned r[4] = {0, 0, 0, 0};
		if ((uint32_t)__get_cpuid_max(f->leaf & 0x80000000u, NULL) >= f->leaf)
			__cpuid_count(f->leaf, f->index, r[0], r[1], r[2], r[3]);
		put_le(h + H_FEATURES + 4 * i, r[f->reg], 4);
	}
}

struct layout {
	uint64_t units_size, mem_offset, footer_offset, footer_size, file_size;
	uint32_t nunits, chunks;
};

static void build_header(struct vm *vm, const struct layout *l, uint8_t *h)
{
	memset(h, 0, SNAP_HEADER_SIZE);
	memcpy(h + H_MAGIC, SNAP_MAGIC, 8);
	put_le(h + H_VERSION, SNAP_VERSION, 4);
	put_le(h + H_HEADER_SIZE, SNAP_HEADER_SIZE, 4);
	put_le(h + H_FLAGS, vm->cfg->snapshot_key ? SNAP_F_HMAC : 0, 4);
	host_cpu_facts(h);
	uint32_t caps, xsave;
	kvm_snapshot_caps(vm, &caps, &xsave);
	put_le(h + H_KVM_CAPS, caps, 4);
	put_le(h + H_XSAVE_SIZE, xsave, 4);
	int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	put_le(h + H_TSC_KHZ, khz > 0 ? (uint32_t)khz : 0, 4);
	put_le(h + H_NCPUS, (uint32_t)vm->ncpus, 4);
	put_le(h + H_MEM_SIZE, vm->mem.size, 8);
	put_le(h + H_UNITS_OFFSET, SNAP_HEADER_SIZE, 8);
	put_le(h + H_UNITS_SIZE, l->units_size, 8);
	put_le(h + H_UNIT_COUNT, l->nunits, 4);
	uint32_t nreg = vm->mem.high_size ? 2 : 1;
	put_le(h + H_NREGIONS, nreg, 4);
	put_le(h + H_REGIONS, 0, 8);
	put_le(h + H_REGIONS + 8, vm->mem.low_size, 8);
	put_le(h + H_REGIONS + 16, l->mem_offset, 8);
	if (nreg == 2) {
		put_le(h + H_REGIONS + 24, MMIO_GAP_END, 8);
		put_le(h + H_REGIONS + 32, vm->mem.high_size, 8);
		put_le(h + H_REGIONS + 40, l->mem_offset + vm->mem.low_size, 8);
	}
	put_le(h + H_CHUNK_SIZE, SNAP_CHUNK, 4);
	put_le(h + H_CHUNK_COUNT, l->chunks, 4);
	put_le(h + H_FOOTER_OFFSET, l->footer_offset, 8);
	put_le(h + H_FOOTER_SIZE, l->footer_size, 8);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	put_le(h + H_CREATED_NS, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, 8);
}

/* ---- file ---- */

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t r = pwrite(fd, b, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;
	for (size_t i = 0; i < SNAP_PAGE / 8; i++)
		acc |= q[i];
	return acc == 0;
}

#define CHUNK_PAGES (SNAP_CHUNK / SNAP_PAGE)
#define PM_PRESENT_OR_SWAPPED (3ull << 62)

/*
 * Which pages of a chunk can hold data: with pagemap (anonymous RAM of a
 * booted VM), a page never touched is neither present nor swapped, so it
 * is zero and is not read at all (reading it would fault in a zero page).
 */
#define PM_WINDOW 4096 /* pagemap entries read at once (16 MiB of RAM): one pread, not 64 */

/* A window of pagemap entries; emptied at the start of every snapshot. */
static struct {
	uint64_t pme[PM_WINDOW];
	uintptr_t first, count; /* first page number held, and how many */
} PM;

static void chunk_absent(int pagemap, const uint8_t *p, size_t pages, uint8_t *absent)
{
	memset(absent, 0, pages);
	if (pagemap < 0)
		return;
	uintptr_t pfn = (uintptr_t)p / SNAP_PAGE;
	if (!PM.count || pfn < PM.first || pfn + pages > PM.first + PM.count) {
		ssize_t r = pread(pagemap, PM.pme, sizeof(PM.pme), (off_t)(pfn * 8));
		PM.count = 0;
		if (r < (ssize_t)(pages * 8))
			return; /* no pagemap: every page is read */
		PM.first = pfn;
		PM.count = (uintptr_t)r / 8;
	}
	for (size_t k = 0; k < pages; k++)
		absent[k] = !(PM.pme[pfn - PM.first + k] & PM_PRESENT_OR_SWAPPED);
}

/* One chunk: its non-zero pages go to the file (zero pages stay holes), and its digest. */
static int write_chunk(int fd, int pagemap, const uint8_t *p, size_t len, uint64_t off,
		       uint8_t *digest, const uint8_t *zero_digest, uint64_t *data_bytes)
{
	static uint8_t zero_page[SNAP_PAGE]; /* bss, not 4 KiB of the binary */
	uint8_t absent[CHUNK_PAGES], zero[CHUNK_PAGES];
	size_t pages = len / SNAP_PAGE, run = 0, start = 0;
	int any = 0;
	chunk_absent(pagemap, p, pages, absent);
	for (size_t k = 0; k <= pages; k++) {
		int z = k == pages || absent[k] || page_is_zero(p + k * SNAP_PAGE);
		if (k < pages)
			zero[k] = (uint8_t)z;
		if (!z) {
			if (!run)
				start = k * SNAP_PAGE;
			run += SNAP_PAGE;
			any = 1;
			continue;
		}
		if (run && pwrite_all(fd, p + start, run, off + start))
			return -1;
		*data_bytes += run;
		run = 0;
	}
	if (!any && len == SNAP_CHUNK) {
		memcpy(digest, zero_digest, DIGEST_LEN);
		return 0;
	}
	struct digest_sha256 d;
	digest_sha256_init(&d);
	for (size_t k = 0; k < pages; k++)
		digest_sha256_update(&d, zero[k] ? zero_page : p + k * SNAP_PAGE, SNAP_PAGE);
	digest_sha256_final(&d, digest);
	return 0;
}

static void progress(struct vm *vm, uint32_t i, uint32_t chunks, uint64_t t0, uint64_t data)
{
	if (vm->mem.size < PROGRESS_MIN_MEM || (i + 1) % (chunks / 4 ? chunks / 4 : 1) != 0)
		return;
	double s = (double)(now_ns() - t0) / 1e9;
	vmm_log("snapshot: memory %u%% (%llu MiB of data, %.0f MiB/s)", (i + 1) * 100 / chunks,
		(unsigned long long)(data >> 20), s > 0 ? (double)data / 1048576.0 / s : 0.0);
}

static int write_memory(struct vm *vm, int fd, const struct layout *l, uint8_t *digests,
			uint64_t *data)
{
	uint8_t zero_digest[DIGEST_LEN];
	snap_zero_digest(SNAP_CHUNK, zero_digest);
	/* A restored VM's untouched pages are not zero (they are in its file): read them all. */
	int pagemap = vm->restored ? -1 : open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	PM.count = 0; /* pages may have been touched since the last snapshot */
	uint64_t t0 = now_ns();
	for (uint32_t i = 0; i < l->chunks; i++) {
		uint64_t off = (uint64_t)i * SNAP_CHUNK;
		size_t len =
		    (size_t)(vm->mem.size - off < SNAP_CHUNK ? vm->mem.size - off : SNAP_CHUNK);
		if (write_chunk(fd, pagemap, vm->mem.host + off, len, l->mem_offset + off,
				digests + (size_t)i * DIGEST_LEN, zero_digest, data)) {
			if (pagemap >= 0)
				close(pagemap);
			return -1;
		}
		progress(vm, i, l->chunks, t0, *data);
	}
	if (pagemap >= 0)
		close(pagemap);
	return 0;
}

static int write_footer(struct vm *vm, int fd, const struct layout *l, const uint8_t *header,
			const struct unit_writer *units, uint8_t *footer)
{
	size_t covered = F_DIGESTS + (size_t)DIGEST_LEN * l->chunks;
	memcpy(footer + F_MAGIC, SNAP_FOOTER_MAGIC, 8);
	put_le(footer + F_UNIT_COUNT, l->nunits, 4);
	put_le(footer + F_CHUNK_COUNT, l->chunks, 4);
	struct digest_sha256 d;
	digest_sha256_init(&d);
	digest_sha256_update(&d, header, SNAP_HEADER_SIZE);
	digest_sha256_update(&d, units->buf, units->len);
	digest_sha256_update(&d, footer, covered);
	digest_sha256_final(&d, footer + covered);
	memset(footer + covered + DIGEST_LEN, 0, DIGEST_LEN);
	if (vm->cfg->snapshot_key) {
		struct digest_hmac h;
		digest_hmac_init(&h, vm->cfg->snapshot_key, vm->cfg->snapshot_key_len);
		digest_hmac_update(&h, header, SNAP_HEADER_SIZE);
		digest_hmac_update(&h, units->buf, units->len);
		digest_hmac_update(&h, footer, covered);
		digest_hmac_final(&h, footer + covered + DIGEST_LEN);
	}
	return pwrite_all(fd, footer, (size_t)l->footer_size, l->footer_offset);
}

static int write_file(struct vm *vm, int fd, struct unit_writer *units, uint32_t nunits,
		      struct snap_result *res, char *err, size_t errlen)
{
	struct layout l = {.units_size = units->len, .nunits = nunits};
	l.chunks = (uint32_t)((vm->mem.size + SNAP_CHUNK - 1) / SNAP_CHUNK);
	l.mem_offset =
	    (SNAP_HEADER_SIZE + l.units_size + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	l.footer_offset = l.mem_offset + vm->mem.size;
	l.footer_size = SNAP_FOOTER_SIZE(l.chunks);
	l.file_size = l.footer_offset + l.footer_size;
	uint8_t *header = calloc(1, SNAP_HEADER_SIZE);
	uint8_t *footer = calloc(1, (size_t)l.footer_size);
	int rc = -1;
	if (!header || !footer) {
		snap_fail(err, errlen, "out of memory for the header and footer");
		goto out;
	}
	build_header(vm, &l, header);
	if (ftruncate(fd, (off_t)l.file_size) < 0 || pwrite_all(fd, header, SNAP_HEADER_SIZE, 0) ||
	    pwrite_all(fd, units->buf, units->len, SNAP_HEADER_SIZE) ||
	    write_memory(vm, fd, &l, footer + F_DIGESTS, &res->data_bytes) ||
	    write_footer(vm, fd, &l, header, units, footer) || fsync(fd) < 0) {
		snap_fail(err, errlen, "writing failed: %s", strerror(errno));
		goto out;
	}
	res->file_bytes = l.file_size;
	rc = 0;
out:
	free(header);
	free(footer);
	return rc;
}

/* Directory part of path (for the temporary file and the directory sync). */
static void dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static int write_snapshot(struct vm *vm, const char *path, struct snap_result *res, char *err,
			  size_t errlen)
{
	char tmp[4200], dir[4096];
	struct unit_writer units = {0};
	uint32_t nunits = 0;
	if (strlen(path) >= 4096)
		return snap_fail(err, errlen, "path is too long");
	if (build_units(vm, &units, &nunits, err, errlen)) {
		uw_free(&units);
		return -1;
	}
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = now_ns();
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%016llx", path, (int)getpid(), (unsigned long long)r);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		uw_free(&units);
		return snap_fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
	}
	int rc = write_file(vm, fd, &units, nunits, res, err, errlen);
	uw_free(&units);
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = snap_fail(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			       strerror(errno));
	if (rc) {
		unlink(tmp);
		return -1;
	}
	dir_of(path, dir, sizeof(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename itself survives a crash */
		close(dfd);
	}
	return 0;
}

int vm_snapshot(struct vm *vm, const char *path, struct snap_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	uint64_t t0 = now_ns();
	vm_pause(vm);
	/* In-flight requests finish and publish their completions; nothing is replayed. */
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_quiesce(vm->virtio[i]);
	if (write_snapshot(vm, path, res, err, errlen))
		return -1;
	res->ms = (now_ns() - t0) / 1000000;
	double s = (double)(now_ns() - t0) / 1e9;
	vmm_log("snapshot: wrote %s: %llu MiB file, %llu MiB of memory data, %llu ms, %.0f MiB/s",
		path, (unsigned long long)(res->file_bytes >> 20),
		(unsigned long long)(res->data_bytes >> 20), (unsigned long long)res->ms,
		s > 0 ? (double)res->data_bytes / 1048576.0 / s : 0.0);
	return 0;
}

void vm_snapshot_done(struct vm *vm, int resume)
{
	for (int i = 0; i < vm->nvirtio; i++)
		virtio_unquiesce(vm->virtio[i]);
	if (resume)
		vm_resume(vm);
}

void vm_snapshot_event(struct vm *vm, const char *path, const struct snap_result *res)
{
	char f[600], esc[480];
	json_escape(esc, sizeof(esc), path);
	snprintf(f, sizeof(f), "\"path\":\"%s\",\"bytes\":%llu,\"data_bytes\":%llu,\"ms\":%llu",
		 esc, (unsigned long long)res->file_bytes, (unsigned long long)res->data_bytes,
		 (unsigned long long)res->ms);
	vm_event(vm, "snapshot-written", f);
}

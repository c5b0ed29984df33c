/*
 * --verify lazy: guest RAM is anonymous memory registered with a
 * userfaultfd. The first touch of a chunk (by a vCPU, KVM or a device thread)
 * lands here: the chunk is checked against its digest and only then copied
 * in from the very buffer that was checked, so the guest never sees a byte
 * that does not verify, and start-up does
 * not grow with memory size. A chunk that fails ends the VM with status 1.
 */
#include "lazy.h"

#include "../log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct {
	struct vm *vm;
	const struct snap_file *f;
	int file_fd; /* chunks are read from here; SEEK_DATA finds holes */
	int uffd;
	uint8_t *guest;
	uint8_t *served; /* one byte per chunk */
	uint8_t *buf;	 /* one chunk, read from the file and checked */
	uint8_t zero_digest[DIGEST_LEN];
	uint64_t touched, hashed_ns;
	pthread_t thread;
} Z;

int lazy_setup(struct vm *vm, const struct snap_file *f, int file_fd, char *err, size_t errlen)
{
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		snprintf(err, errlen, "userfaultfd: %s", strerror(errno));
		return -1;
	}
	struct uffdio_api api = {.api = UFFD_API};
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		snprintf(err, errlen, "UFFDIO_API: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	uint8_t *g = mmap(NULL, f->mem_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest RAM: %s", strerror(errno));
		close(uffd);
		return -1;
	}
	struct uffdio_register reg = {.range = {(uint64_t)(uintptr_t)g, f->mem_size},
				      .mode = UFFDIO_REGISTER_MODE_MISSING};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		snprintf(err, errlen, "UFFDIO_REGISTER: %s", strerror(errno));
		munmap(g, f->mem_size);
		close(uffd);
		return -1;
	}
	Z.served = calloc(f->chunk_count, 1);
	/* Populated now: first-touch faults on a fresh buffer are slow under nested paging. */
	Z.buf = mmap(NULL, f->chunk_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (Z.buf == MAP_FAILED)
		Z.buf = NULL;
	if (!Z.served || !Z.buf)
		die("out of memory");
	snap_zero_digest(f->chunk_size, Z.zero_digest);
	Z.vm = vm;
	Z.f = f;
	Z.file_fd = file_fd;
	Z.uffd = uffd;
	Z.guest = g;
	vm->mem.host = g;
	return 0;
}

/* A chunk that is all hole in the file is zeros: its digest must say so. */
static int chunk_is_hole(uint64_t start, uint64_t len)
{
	uint64_t at = Z.f->mem_offset + start;
	off_t d = lseek(Z.file_fd, (off_t)at, SEEK_DATA);
	if (d >= 0)
		return (uint64_t)d >= at + len;
	return errno == ENXIO;
}

static void chunk_failed(uint32_t i, const char *why)
{
	char msg[256];
	uint64_t start = (uint64_t)i * Z.f->chunk_size;
	snprintf(msg, sizeof(msg),
		 "memory chunk %u (guest RAM bytes 0x%llx..0x%llx) %s: the file was altered; "
		 "stopping the VM",
		 i, (unsigned long long)start, (unsigned long long)(start + Z.f->chunk_size - 1),
		 why);
	vmm_log("%s", msg);
	vm_request_exit(Z.vm, EXIT_VMM_FAILED, msg);
}

static int read_chunk(uint64_t start, uint64_t len)
{
	uint64_t done = 0, at = Z.f->mem_offset + start;
	while (done < len) {
		ssize_t r =
		    pread(Z.file_fd, Z.buf + done, (size_t)(len - done), (off_t)(at + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (uint64_t)r;
	}
	return 0;
}

/* Verify chunk i and map it in. Returns 0, or -1 when it failed (never served). */
static int serve_chunk(uint32_t i)
{
	uint64_t start = (uint64_t)i * Z.f->chunk_size, len = Z.f->mem_size - start;
	if (len > Z.f->chunk_size)
		len = Z.f->chunk_size;
	const uint8_t *want = Z.f->digests + (uint64_t)i * DIGEST_LEN;
	uint64_t t0 = now_ns();
	if (len == Z.f->chunk_size && chunk_is_hole(start, len)) {
		if (!digest_equal(want, Z.zero_digest)) {
			chunk_failed(i, "is a hole where the digest says data");
			return -1;
		}
		struct uffdio_zeropage z = {.range = {(uint64_t)(uintptr_t)(Z.guest + start), len}};
		if (ioctl(Z.uffd, UFFDIO_ZEROPAGE, &z) < 0 && errno != EEXIST)
			die_errno("lazy restore: UFFDIO_ZEROPAGE of chunk %u failed", i);
	} else {
		/*
		 * Read, check and copy from one private buffer: what the guest gets
		 * is exactly what was checked, whatever happens to the file.
		 */
		uint8_t got[DIGEST_LEN];
		if (read_chunk(start, len) < 0) {
			chunk_failed(i, "cannot be read");
			return -1;
		}
		snap_chunk_digest(Z.buf, (size_t)len, got);
		if (!digest_equal(got, want)) {
			chunk_failed(i, "does not match its digest");
			return -1;
		}
		struct uffdio_copy c = {.dst = (uint64_t)(uintptr_t)(Z.guest + start),
					.src = (uint64_t)(uintptr_t)Z.buf,
					.len = len};
		if (ioctl(Z.uffd, UFFDIO_COPY, &c) < 0 && errno != EEXIST)
			die_errno("lazy restore: UFFDIO_COPY of chunk %u failed", i);
	}
	Z.hashed_ns += now_ns() - t0;
	Z.touched++;
	Z.served[i] = 1;
	return 0;
}

static void *lazy_thread(void *arg)
{
	(void)arg;
	seccomp_enter(THREAD_UFFD);
	for (;;) {
		struct uffd_msg msg;
		ssize_t r = read(Z.uffd, &msg, sizeof(msg));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r != sizeof(msg))
			die_errno("lazy restore: reading the userfaultfd failed");
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t off = msg.arg.pagefault.address - (uint64_t)(uintptr_t)Z.guest;
		if (off >= Z.f->mem_size)
			continue;
		uint32_t i = (uint32_t)(off / Z.f->chunk_size);
		if (Z.served[i]) {
			/* Two threads touched one chunk: the copy woke both. */
			struct uffdio_range w = {(uint64_t)(uintptr_t)Z.guest + (off & ~4095ull),
						 4096};
			ioctl(Z.uffd, UFFDIO_WAKE, &w);
			continue;
		}
		if (serve_chunk(i))
			return NULL; /* the faulting thread stays stopped; the VM is ending */
	}
}

void lazy_start(void)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	int e = pthread_create(&Z.thread, &attr, lazy_thread, NULL);
	pthread_attr_destroy(&attr);
	if (e) {
		errno = e;
		die_errno("lazy restore: cannot start the userfaultfd thread");
	}
}

void lazy_stats(uint64_t *chunks, uint64_t *ns)
{
	*chunks = Z.touched;
	*ns = Z.hashed_ns;
}

/*
 * iobench: the block I/O load for bench/blk.sh, small and static so it runs
 * inside the Linux guest and in the nested tier's L1 alike.
 *   iobench FILE seqread|seqwrite|randread|randwrite SECONDS [QD]
 * seq*: 1 MiB requests in order, wrapping at the end of FILE.
 * rand*: 4 KiB requests at random aligned offsets.
 * QD threads keep one request each in flight (default 1).
 * O_DIRECT where the file system supports it (falls back to buffered and
 * says so). Prints one line:
 * "<mode>-qd<QD> <MiB/s> MiB/s <IOPS> IOPS direct=<0|1>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

static const char *path;
static int mode_write, mode_rand, direct = 1;
static uint64_t size, block;
static double seconds;
static volatile int stop;
static uint64_t ops_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_file(void)
{
	int flags = mode_write ? O_RDWR : O_RDONLY;
	int fd = direct ? open(path, flags | O_DIRECT) : -1;
	if (fd < 0) {
		direct = 0;
		fd = open(path, flags);
	}
	if (fd < 0) {
		fprintf(stderr, "iobench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void *worker(void *arg)
{
	int fd = open_file();
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1, off = 0, n = 0;
	void *buf;
	if (posix_memalign(&buf, 4096, block))
		exit(1);
	memset(buf, 0x5a, block);
	uint64_t blocks = size / block;
	while (!stop) {
		if (mode_rand) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			off = (seed % blocks) * block;
		}
		ssize_t r = mode_write ? pwrite(fd, buf, block, (off_t)off)
				       : pread(fd, buf, block, (off_t)off);
		if (r != (ssize_t)block) {
			fprintf(stderr, "iobench: I/O at %llu failed: %s\n",
				(unsigned long long)off, r < 0 ? strerror(errno) : "short");
			exit(1);
		}
		n++;
		if (!mode_rand)
			off = (off + block) % (blocks * block);
	}
	if (mode_write)
		fdatasync(fd);
	pthread_mutex_lock(&lock);
	ops_total += n;
	pthread_mutex_unlock(&lock);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: iobench FILE seqread|seqwrite|randread|randwrite SECONDS [QD]\n");
		return 2;
	}
	path = argv[1];
	mode_write = strcmp(argv[2], "seqwrite") == 0 || strcmp(argv[2], "randwrite") == 0;
	mode_rand = strcmp(argv[2], "randread") == 0 || strcmp(argv[2], "randwrite") == 0;
	if (!mode_write && !mode_rand && strcmp(argv[2], "seqread") != 0) {
		fprintf(stderr, "iobench: unknown mode %s\n", argv[2]);
		return 2;
	}
	seconds = atof(argv[3]);
	int qd = argc > 4 ? atoi(argv[4]) : 1;
	if (qd < 1 || qd > 64)
		qd = 1;
	block = mode_rand ? 4096 : 1 << 20;
	int fd = open_file();
	struct stat st;
	fstat(fd, &st);
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode))
		ioctl(fd, BLKGETSIZE64, &size);
	close(fd);
	if (size < block * 4) {
		fprintf(stderr, "iobench: %s is too small\n", path);
		return 1;
	}
	pthread_t t[64];
	double t0 = now();
	for (int i = 0; i < qd; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	struct timespec d = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
	nanosleep(&d, NULL);
	stop = 1;
	for (int i = 0; i < qd; i++)
		pthread_join(t[i], NULL);
	double dt = now() - t0;
	printf("%s-qd%d %.1f MiB/s %.0f IOPS direct=%d\n", argv[2], qd,
	       (double)ops_total * block / dt / 1048576, (double)ops_total / dt, direct);
	return 0;
}

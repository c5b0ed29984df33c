/*
 * vmm-guest: the guest side of vmm's heartbeat device, for the bundled Linux
 * guest. Maps the device's page through /dev/mem.
 *   vmm-guest ready       signal READY (the host logs boot time, may snapshot)
 *   vmm-guest exit N      sync, drain the console, power off; vmm exits with N & 255
 *   vmm-guest session     print the 64-bit session id (changes on restore/reset)
 *   vmm-guest clock       set the wall clock from the host's HOST_TIME
 *   vmm-guest drain       wait until the terminal on stdout has sent everything
 *                         (needs no heartbeat device)
 *   vmm-guest beat        daemon: enable the monitor and beat at the host's
 *                         interval; when the session id changes under it (a
 *                         restore), set the clock from the host and credit
 *                         fresh bytes from /dev/hwrng to the entropy pool
 * Exit status: 0, 1 on failure (message on stderr), 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../devices/pseudo/heartbeat_regs.h"

#define HB_BASE ((unsigned long)HB_BASE_ADDR)

static volatile uint32_t *regs;

static void fail(const char *what)
{
	fprintf(stderr, "vmm-guest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint32_t rd(unsigned off)
{
	return regs[off / 4];
}

static void wr(unsigned off, uint32_t v)
{
	regs[off / 4] = v;
}

static void map_device(void)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		fail("open /dev/mem");
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, HB_BASE);
	if (p == MAP_FAILED)
		fail("map the heartbeat device at 0xd0000000");
	close(fd);
	regs = p;
	if (rd(HB_MAGIC) != HB_MAGIC_VALUE) {
		fprintf(stderr, "vmm-guest: no vmm heartbeat device at 0x%lx (magic 0x%08x)\n",
			HB_BASE, rd(HB_MAGIC));
		exit(1);
	}
}

static uint64_t session(void)
{
	uint32_t lo = rd(HB_SESSION_LO);
	return (uint64_t)rd(HB_SESSION_HI) << 32 | lo;
}

static void set_clock(void)
{
	uint32_t lo = rd(HB_HOST_TIME_LO); /* latches HI */
	uint64_t ns = (uint64_t)rd(HB_HOST_TIME_HI) << 32 | lo;
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		fail("clock_settime");
}

/* Fresh entropy after a restore: two guests from one snapshot must not share a pool. */
static void credit_hwrng(void)
{
	int in = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return; /* no virtio-rng: nothing to credit */
	struct {
		struct rand_pool_info info;
		uint8_t buf[64];
	} e;
	ssize_t n = read(in, e.buf, sizeof(e.buf));
	close(in);
	if (n <= 0)
		return;
	e.info.entropy_count = (int)n * 8;
	e.info.buf_size = (int)n;
	int out = open("/dev/random", O_WRONLY | O_CLOEXEC);
	if (out < 0 || ioctl(out, RNDADDENTROPY, &e) < 0)
		fprintf(stderr, "vmm-guest: could not credit entropy: %s\n", strerror(errno));
	if (out >= 0)
		close(out);
}

static int beat(void)
{
	uint32_t interval = rd(HB_INTERVAL_MS);
	if (interval == 0)
		return 0; /* the host offers no monitor (no --heartbeat) */
	uint64_t last = session();
	wr(HB_CONTROL, 1);
	for (;;) {
		wr(HB_BEAT, 1);
		uint64_t now = session();
		if (now != last) {
			last = now;
			set_clock();
			credit_hwrng();
		}
		struct timespec ts = {interval / 1000, (long)(interval % 1000) * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: vmm-guest ready | exit N | session | clock | beat | drain\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "exit") == 0 && argc != 3)
		return usage();
	if (strcmp(cmd, "exit") != 0 && argc != 2)
		return usage();
	if (strcmp(cmd, "drain") == 0) {
		/*
		 * Not a terminal: nothing is buffered on the way. SIGTTOU ignored:
		 * a command may have left another process group in the foreground.
		 */
		signal(SIGTTOU, SIG_IGN);
		if (tcdrain(1) < 0 && errno != ENOTTY && errno != EINVAL)
			fail("tcdrain on stdout");
		return 0;
	}
	map_device();
	if (strcmp(cmd, "ready") == 0) {
		wr(HB_READY, 1);
	} else if (strcmp(cmd, "exit") == 0) {
		char *end;
		long v = strtol(argv[2], &end, 10);
		if (*end || end == argv[2])
			return usage();
		sync();
		/* Power-off is immediate: let the console finish sending first. */
		int con = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (con >= 0) {
			tcdrain(con);
			close(con);
		}
		wr(HB_EXIT, (uint32_t)v);
		return 1; /* still here: the host did not power off */
	} else if (strcmp(cmd, "session") == 0) {
		printf("%016llx\n", (unsigned long long)session());
	} else if (strcmp(cmd, "clock") == 0) {
		set_clock();
	} else if (strcmp(cmd, "beat") == 0) {
		signal(SIGHUP, SIG_IGN);
		return beat();
	} else {
		return usage();
	}
	return 0;
}

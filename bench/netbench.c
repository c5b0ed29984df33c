/*
 * netbench: TCP throughput and request/response latency between a guest and
 * its host, static so that it runs in L1 and inside the guest alike. The
 * client side (in the guest) measures and prints one line per load:
 *   netbench serve PORT                 host: sink, source and echo on PORT,
 *                                       PORT+1, PORT+2, one client at a time
 *   netbench send HOST PORT SECS        guest to host: "send MiB/s"
 *   netbench recv HOST PORT SECS        host to guest: "recv MiB/s"
 *   netbench rr HOST PORT SECS          1-byte ping-pong: "rr trans/s us"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)
static char buf[BUF];

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A stalled connection ends the load with an error instead of hanging the benchmark. */
static void stall_limit(int s)
{
	struct timeval tv = {.tv_sec = 30};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int listen_on(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (s < 0)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		die("bind/listen");
	return s;
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "netbench: bad address %s\n", host);
		exit(2);
	}
	for (int tries = 0;; tries++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			die("socket");
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			stall_limit(s);
			return s;
		}
		close(s);
		if (tries > 100)
			die("connect");
		usleep(100000);
	}
}

static void nodelay(int s)
{
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int write_all(int s, const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(s, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Host side: one server per load, each serving clients one after another. */
static void serve(int port)
{
	signal(SIGCHLD, SIG_IGN);
	for (int kind = 0; kind < 3; kind++) {
		if (fork() != 0)
			continue;
		int l = listen_on(port + kind);
		for (;;) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				continue;
			nodelay(c);
			stall_limit(c);
			ssize_t r;
			if (kind == 0) { /* sink: read to EOF, then close */
				while ((r = read(c, buf, BUF)) > 0)
					;
			} else if (kind == 1) { /* source: seconds from the client's first byte */
				char secs = 0;
				if (read(c, &secs, 1) == 1) {
					double end = now() + secs;
					while (now() < end && write_all(c, buf, BUF) == 0)
						;
				}
			} else { /* echo */
				while ((r = read(c, buf, BUF)) > 0)
					if (write_all(c, buf, (size_t)r))
						break;
			}
			close(c);
		}
	}
	for (;;)
		pause();
}

static void send_load(const char *host, int port, int secs)
{
	int s = connect_to(host, port);
	double t0 = now(), end = t0 + secs;
	unsigned long long bytes = 0;
	while (now() < end) {
		if (write_all(s, buf, BUF))
			die("write");
		bytes += BUF;
	}
	shutdown(s, SHUT_WR);
	while (read(s, buf, BUF) > 0) /* the sink closes once it has read everything */
		;
	printf("send %.2f MiB/s\n", (double)bytes / (now() - t0) / 1048576.0);
}

static void recv_load(const char *host, int port, int secs)
{
	int s = connect_to(host, port + 1);
	char c = (char)secs;
	double t0 = now();
	if (write(s, &c, 1) != 1)
		die("write");
	unsigned long long bytes = 0;
	ssize_t r;
	while ((r = read(s, buf, BUF)) > 0)
		bytes += (unsigned long long)r;
	if (r < 0)
		die("read");
	printf("recv %.2f MiB/s\n", (double)bytes / (now() - t0) / 1048576.0);
}

static void rr_load(const char *host, int port, int secs)
{
	int s = connect_to(host, port + 2);
	nodelay(s);
	double t0 = now(), end = t0 + secs;
	unsigned long n = 0;
	char c = 'x';
	while (now() < end) {
		if (write(s, &c, 1) != 1 || read(s, &c, 1) != 1)
			die("ping-pong");
		n++;
	}
	double dt = now() - t0;
	printf("rr %.1f trans/s %.1f us\n", (double)n / dt, dt / (double)n * 1e6);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0) {
		serve(atoi(argv[2]));
		return 0;
	}
	if (argc == 5) {
		int port = atoi(argv[3]), secs = atoi(argv[4]);
		if (secs < 1 || secs > 100) {
			fprintf(stderr, "netbench: SECS from 1 to 100\n");
			return 2;
		}
		if (strcmp(argv[1], "send") == 0)
			send_load(argv[2], port, secs);
		else if (strcmp(argv[1], "recv") == 0)
			recv_load(argv[2], port, secs);
		else if (strcmp(argv[1], "rr") == 0)
			rr_load(argv[2], port, secs);
		else
			goto usage;
		return 0;
	}
usage:
	fprintf(stderr, "usage: netbench serve PORT | send|recv|rr HOST PORT SECS\n");
	return 2;
}

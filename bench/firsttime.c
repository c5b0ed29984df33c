/*
 * firsttime: run a command N times and report, per run, the wall time from
 * just before exec to the first byte it writes to stdout containing MARKER
 * ("first output"), and to its exit. Prints one line per run:
 *   first_ms exit_ms status
 * Usage: firsttime [-n RUNS] [-m MARKER] [-o FILE] -- COMMAND...
 * With -o, the command's output is also appended to FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int copy_fd = -1; /* -o FILE */

static int run_once(char **cmd, const char *marker, double *first, double *exit_ms)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(p[1]);
	*first = -1;
	char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t r = read(p[0], buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			break;
		if (copy_fd >= 0 && write(copy_fd, buf + have, (size_t)r) != r)
			fprintf(stderr, "firsttime: writing the copy of the output failed\n");
		if (*first < 0) {
			have += (size_t)r;
			buf[have] = 0;
			if (!marker || strstr(buf, marker))
				*first = now_ms() - t0;
			if (have > sizeof(buf) / 2)
				have = 0;
		}
	}
	int st;
	waitpid(pid, &st, 0);
	*exit_ms = now_ms() - t0;
	close(p[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	int runs = 10, i = 1;
	const char *marker = NULL;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			marker = argv[++i];
		else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			copy_fd = open(argv[++i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (copy_fd < 0) {
				fprintf(stderr, "firsttime: %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: firsttime [-n RUNS] [-m MARKER] [-o FILE] -- COMMAND...\n");
		return 2;
	}
	for (int r = 0; r < runs; r++) {
		double f, e;
		int st = run_once(argv + i, marker, &f, &e);
		printf("%.3f %.3f %d\n", f, e, st);
		fflush(stdout);
	}
	return 0;
}

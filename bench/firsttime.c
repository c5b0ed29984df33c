/*
 * firsttime: run a command N times and report, per run, the wall time from
 * just before exec to the first byte it writes to stdout containing MARKER
 * ("first output"), and to its exit. Prints one line per run:
 *   first_ms exit_ms status [second_ms]
 * With -2 MARKER2 it also reports the time to the first MARKER2 written
 * after MARKER (second_ms). With -k SIGNAL the command is sent SIGNAL as soon
 * as the last awaited marker is seen, for guests that never stop by
 * themselves (exit_ms then includes the teardown). A marker never seen is
 * reported as -1.
 * Usage: firsttime [-n RUNS] [-m MARKER] [-2 MARKER2] [-k SIGNAL] -- COMMAND...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
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

struct wait_for {
	const char *marker[2]; /* marker[0] NULL: any byte; marker[1] NULL: none */
	int kill_sig;
};

/* Looks for the awaited markers in the output; keeps a marker's length of tail. */
struct scan {
	char buf[65536];
	size_t have;
	int next; /* index of the marker being looked for; 2 when done */
};

static void scan_feed(struct scan *s, const struct wait_for *w, const char *data, size_t n,
		      double t, double when[2])
{
	while (n && s->next < 2) {
		size_t room = sizeof(s->buf) - 1 - s->have;
		size_t take = n < room ? n : room;
		memcpy(s->buf + s->have, data, take);
		s->have += take;
		s->buf[s->have] = 0;
		data += take;
		n -= take;
		const char *m = w->marker[s->next];
		char *hit = m ? strstr(s->buf, m) : s->buf;
		if (hit) {
			when[s->next] = t;
			size_t used = (size_t)(hit - s->buf) + (m ? strlen(m) : 1);
			memmove(s->buf, s->buf + used, s->have - used + 1);
			s->have -= used;
			s->next = (s->next == 0 && w->marker[1]) ? 1 : 2;
			continue;
		}
		size_t keep = m ? strlen(m) : 0;
		if (s->have > keep) {
			memmove(s->buf, s->buf + s->have - keep, keep + 1);
			s->have = keep;
		}
	}
}

static int run_once(char **cmd, const struct wait_for *w, double when[2], double *exit_ms)
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
	when[0] = when[1] = -1;
	static struct scan s;
	s.have = 0;
	s.next = 0;
	char chunk[16384];
	for (;;) {
		ssize_t r = read(p[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (s.next < 2) {
			double t[2];
			scan_feed(&s, w, chunk, (size_t)r, now_ms() - t0, t);
			for (int i = 0; i < 2; i++)
				if (when[i] < 0 && s.next > i)
					when[i] = t[i];
			if (s.next == 2 && w->kill_sig)
				kill(pid, w->kill_sig);
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
	struct wait_for w = {{NULL, NULL}, 0};
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			w.marker[0] = argv[++i];
		else if (!strcmp(argv[i], "-2") && i + 1 < argc)
			w.marker[1] = argv[++i];
		else if (!strcmp(argv[i], "-k") && i + 1 < argc)
			w.kill_sig = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: firsttime [-n RUNS] [-m MARKER] [-2 MARKER2] [-k SIGNAL] "
				"-- COMMAND...\n");
		return 2;
	}
	for (int r = 0; r < runs; r++) {
		double when[2], e;
		int st = run_once(argv + i, &w, when, &e);
		if (w.marker[1])
			printf("%.3f %.3f %d %.3f\n", when[0], e, st, when[1]);
		else
			printf("%.3f %.3f %d\n", when[0], e, st);
		fflush(stdout);
	}
	return 0;
}

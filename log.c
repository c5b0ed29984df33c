/* Logging and fatal-error helpers. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void (*log_exit_hook)(void);
int log_muted;
static uint64_t start_ns;

void termination_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void log_init(void)
{
	start_ns = now_ns();
}

uint64_t since_start_ns(void)
{
	return now_ns() - start_ns;
}

static void vlog(const char *fmt, va_list ap, const char *suffix)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "vmm: ");
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (suffix)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", suffix);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write so that lines from several threads never interleave. */
	ssize_t r = write(2, buf, (size_t)n);
	(void)r;
}

void vmm_log(const char *fmt, ...)
{
	if (log_muted)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

static void __attribute__((noreturn)) finish(int status)
{
	if (log_exit_hook)
		log_exit_hook();
	_exit(status);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	finish(EXIT_USAGE);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	finish(EXIT_VMM_FAILED);
}

void die_errno(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
	finish(EXIT_VMM_FAILED);
}

/* Logging and fatal-error helpers: one voice for every message vmm prints. */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdint.h>

/* Exit statuses fixed by DESIGN.md. */
enum {
	EXIT_VMM_FAILED = 1, /* KVM error, device backend error, bad snapshot */
	EXIT_USAGE = 2,	     /* usage or configuration error, nothing started */
	EXIT_WATCHDOG = 124, /* watchdog or heartbeat ended the VM */
};

/* Print "vmm: MESSAGE\n" to stderr in one write (fmt is printf-style). */
void vmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit with status 2: a usage or configuration error. */
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Log and exit with status 1: the VMM itself failed. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Like die(), with ": strerror(errno)" appended. */
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Set to 1 to silence vmm_log (fuzz targets: every fault would print). */
extern int log_muted;

/* Hook run by die*() before exiting (restores the terminal); may be NULL. */
extern void (*log_exit_hook)(void);

#include <signal.h>

/* The signals that end vmm cleanly (SIGINT, SIGTERM, SIGHUP, SIGQUIT), into set. */
void termination_signals(sigset_t *set);

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t now_ns(void);

/* Nanoseconds since vmm started (set by log_init()). */
uint64_t since_start_ns(void);

/* Record the start time; call first thing in main(). */
void log_init(void);

#endif

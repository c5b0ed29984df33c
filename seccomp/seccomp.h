/*
 * Per-thread seccomp filters. The programs are generated at build time from
 * seccomp/allow_*.c and embedded; each thread installs its own before it
 * touches guest-controlled data.
 */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <linux/filter.h>

enum seccomp_mode { SECCOMP_ON, SECCOMP_LOG, SECCOMP_OFF };

enum thread_kind {
	THREAD_VCPU,
	THREAD_MAIN,
	THREAD_VIRTIO_BLK,
	THREAD_VIRTIO_RNG,
	THREAD_VIRTIO_BLK_WORKER,
	THREAD_VIRTIO_NET,
	THREAD_UFFD,
	THREAD_KINDS
};

struct seccomp_program {
	const char *kind;
	const struct sock_filter *insns;
	unsigned short len;
};

extern const struct seccomp_program seccomp_programs[THREAD_KINDS];
extern const char *const seccomp_syscall_names[];
extern const int seccomp_syscall_max;

/*
 * Choose the mode and install the SIGSYS handler that reports violations.
 * Call once in the main thread before any other thread starts. With
 * SECCOMP_OFF it warns loudly on stderr.
 */
void seccomp_setup(enum seccomp_mode mode);

/*
 * Confine the calling thread as kind (no_new_privs, then its filter). With
 * SECCOMP_ON a forbidden syscall ends the process with status 1 and one line
 * naming the thread kind and the syscall; with SECCOMP_LOG the kernel logs it
 * (audit/dmesg) and lets it through. Exits with status 1 if the kernel refuses.
 */
void seccomp_enter(enum thread_kind kind);

#endif

/* Installs the embedded per-thread filters and reports violations. */
#include "seccomp.h"

#include "../log.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static enum seccomp_mode mode;
static __thread int my_kind = -1;

static size_t put_str(char *dst, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		dst[at++] = *s++;
	return at;
}

static size_t put_uint(char *dst, size_t at, size_t cap, unsigned long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (n && at < cap)
		dst[at++] = tmp[--n];
	return at;
}

/* Async-signal-safe: builds the line by hand, one write, then exit_group. */
static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)uctx;
	char line[160];
	size_t n = 0, cap = sizeof(line) - 1;
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr <= seccomp_syscall_max ? seccomp_syscall_names[nr] : NULL;
	n = put_str(line, n, cap, "vmm: seccomp: ");
	n = put_str(line, n, cap, my_kind >= 0 ? seccomp_programs[my_kind].kind : "unconfined");
	n = put_str(line, n, cap, " thread made a forbidden system call: ");
	n = put_str(line, n, cap, name ? name : "?");
	n = put_str(line, n, cap, " (");
	n = put_uint(line, n, cap, (unsigned long)nr);
	n = put_str(line, n, cap, ")\n");
	ssize_t r = write(2, line, n);
	(void)r;
	syscall(SYS_exit_group, EXIT_VMM_FAILED);
}

void seccomp_setup(enum seccomp_mode m)
{
	mode = m;
	if (m == SECCOMP_OFF) {
		vmm_log("WARNING: --seccomp off: no thread is confined; a guest that breaks into "
			"vmm can make any system call");
		return;
	}
	struct sigaction sa = {.sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

#ifdef VMM_TEST_HOOKS
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/kvm.h>
/* Test builds only: VMM_TEST_FORBIDDEN=KIND[-ioctl] makes that thread misbehave. */
static void test_forbidden(enum thread_kind kind)
{
	const char *want = getenv("VMM_TEST_FORBIDDEN");
	const char *k = seccomp_programs[kind].kind;
	size_t kl = strlen(k);
	if (!want || strncmp(want, k, kl) != 0)
		return;
	if (strcmp(want + kl, "-ioctl") == 0)
		ioctl(-1, KVM_GET_DIRTY_LOG, NULL); /* a request no vmm thread needs */
	else if (want[kl] == 0)
		socket(AF_INET, SOCK_STREAM, 0);
}
#endif

void seccomp_enter(enum thread_kind kind)
{
	my_kind = (int)kind;
	if (mode == SECCOMP_OFF)
		return;
	const struct seccomp_program *p = &seccomp_programs[kind];
	struct sock_filter *insns = NULL;
	struct sock_fprog prog = {p->len, (struct sock_filter *)p->insns};
	if (mode == SECCOMP_LOG) {
		/* Same program, but whatever would trap is logged and allowed. */
		insns = malloc(p->len * sizeof(*insns));
		if (!insns)
			die("seccomp: out of memory");
		memcpy(insns, p->insns, p->len * sizeof(*insns));
		for (unsigned i = 0; i < p->len; i++)
			if (insns[i].code == (BPF_RET | BPF_K) && insns[i].k == SECCOMP_RET_TRAP)
				insns[i].k = SECCOMP_RET_LOG;
		prog.filter = insns;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("seccomp: PR_SET_NO_NEW_PRIVS failed for the %s thread", p->kind);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		die_errno("seccomp: the kernel refused the %s thread's filter", p->kind);
	free(insns);
#ifdef VMM_TEST_HOOKS
	test_forbidden(kind);
#endif
}

/*
 * The event loop thread (main): console, signals, control socket, device
 * timers, pause/resume, watchdog actions (a reset rebuilds the VM here), and
 * teardown. Installed after the vCPU threads exist, right before the loop.
 */
#include "rules.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <asm/ioctls.h>

const struct rule allow_main[] = {
    ALLOW("epoll_wait", "the event loop"),
    ALLOW("epoll_pwait", "the event loop (libc may use this form)"),
    ALLOW("epoll_ctl", "stdin on and off, control socket clients"),
    ALLOW("read", "stdin, eventfds, signalfd, timerfd, control socket requests"),
    ALLOW("write", "console, eventfds, log lines on stderr"),
    ALLOW("writev", "libc stdio on stderr"),
    ALLOW("sendto", "replies and events to control socket clients"),
    ALLOW("accept4", "control socket connections"),
    ALLOW("close", "closed clients, VM teardown on reset"),
    ALLOW("timerfd_settime", "watchdog, heartbeat and shutdown deadlines"),
    ALLOW("futex", "VM lock, pause rendezvous"),
    ALLOW("tkill", "kick a vCPU out of KVM_RUN (musl's pthread_kill)"),
    ALLOW("tgkill", "kick a vCPU out of KVM_RUN (glibc's pthread_kill)"),
    ALLOW("clock_gettime", "guest time (when the vDSO falls back)"),
    ALLOW("getrandom", "a new session id on reset"),
    ALLOW("rt_sigprocmask", "libc"),
    ALLOW("rt_sigreturn", "signal handlers"),
    ARG_MASKED("mmap", 2, PROT_EXEC, 0,
	       "libc allocations, kvm_run of rebuilt vCPUs; never executable"),
    ARG_MASKED("mprotect", 2, PROT_EXEC, 0, "libc; never executable"),
    ALLOW("munmap", "libc frees, kvm_run of destroyed vCPUs"),
    ALLOW("brk", "libc allocations"),
    ALLOW("madvise", "reset discards guest RAM"),
    ALLOW("mincore", "VMM_STATS counts resident guest RAM"),
    ALLOW("pread64", "reset reloads the initrd"),
    ARG_MASKED("open", 1, O_ACCMODE | O_CREAT, O_RDONLY,
	       "VMM_STATS reads /proc/self/status (musl's open); read-only"),
    ARG_MASKED("openat", 2, O_ACCMODE | O_CREAT, O_RDONLY, "the same through openat; read-only"),
    ARG_MASKED("fcntl", 1, ~0ull, F_SETFD, "musl's open() sets FD_CLOEXEC again; nothing else"),
    ALLOW("unlink", "remove the control socket file at exit"),
    ALLOW("exit", "thread exit"),
    ALLOW("exit_group", "the process ends"),
    /* Only the fast-exit helper: shares memory and files, so no copy (not a fork). */
    {"clone", MASKED_EQ, 0, ~0ull, CLONE_VM | CLONE_FILES | CLONE_FS,
     "fast exit: the teardown helper that outlives vmm"},
    IOCTL(TCSETS, "restore the terminal"),
    IOCTL(KVM_IRQ_LINE, "the UART receives console input, the i8042 a Ctrl-Alt-Del"),
    IOCTL(KVM_GET_REGS, "messages"),
    /* A watchdog reset builds a fresh VM on this thread. */
    IOCTL(KVM_CREATE_VM, "reset: a fresh VM"),
    IOCTL(KVM_GET_VCPU_MMAP_SIZE, "reset"),
    IOCTL(KVM_SET_USER_MEMORY_REGION, "reset"),
    IOCTL(KVM_SET_TSS_ADDR, "reset"),
    IOCTL(KVM_CREATE_IRQCHIP, "reset"),
    IOCTL(KVM_CREATE_PIT2, "reset"),
    IOCTL(KVM_CREATE_VCPU, "reset"),
    IOCTL(KVM_SET_CPUID2, "reset"),
    IOCTL(KVM_SET_MSRS, "reset"),
    IOCTL(KVM_GET_LAPIC, "reset; snapshot: vCPU state"),
    IOCTL(KVM_SET_LAPIC, "reset"),
    IOCTL(KVM_GET_SREGS, "reset; snapshot: vCPU state"),
    IOCTL(KVM_SET_SREGS, "reset"),
    IOCTL(KVM_SET_REGS, "reset"),
    IOCTL(KVM_SET_FPU, "reset"),
    IOCTL(KVM_IOEVENTFD, "reset: virtio queue notifications on the new VM"),
    IOCTL(KVM_IRQFD, "reset: virtio interrupts on the new VM"),
    /* Snapshots (socket command, --snapshot-on-ready, the dump action) are written here. */
    ARG_MASKED("open", 1, O_ACCMODE | O_CREAT | O_EXCL, O_WRONLY | O_CREAT | O_EXCL,
	       "snapshot: a new temporary file, never an existing one"),
    ARG_MASKED("openat", 2, O_ACCMODE | O_CREAT | O_EXCL, O_WRONLY | O_CREAT | O_EXCL,
	       "snapshot: the same through openat"),
    ALLOW("pwrite64", "snapshot: header, units, memory, footer"),
    ALLOW("preadv", "snapshot: the written sectors of an ephemeral disk's overlay"),
    ALLOW("ftruncate", "snapshot: size the sparse file"),
    ALLOW("fsync", "snapshot: file and directory reach the disk"),
    ALLOW("rename", "snapshot: the finished file replaces the target"),
    ALLOW("getpid", "snapshot: temporary file name"),
    IOCTL(KVM_CHECK_EXTENSION, "snapshot: XSAVE size, TSC control"),
    IOCTL(KVM_GET_MSR_INDEX_LIST, "snapshot: which MSRs exist"),
    IOCTL(KVM_GET_MP_STATE, "snapshot: vCPU state"),
    IOCTL(KVM_GET_XSAVE, "snapshot: vCPU state"),
    IOCTL(KVM_GET_XSAVE2, "snapshot: vCPU state (large XSAVE areas)"),
    IOCTL(KVM_GET_XCRS, "snapshot: vCPU state"),
    IOCTL(KVM_GET_DEBUGREGS, "snapshot: vCPU state"),
    IOCTL(KVM_GET_TSC_KHZ, "snapshot: TSC frequency"),
    IOCTL(KVM_GET_CPUID2, "snapshot: vCPU state"),
    IOCTL(KVM_GET_MSRS, "snapshot: vCPU state"),
    IOCTL(KVM_GET_VCPU_EVENTS, "snapshot: vCPU state"),
    IOCTL(KVM_GET_PIT2, "snapshot: VM state"),
    IOCTL(KVM_GET_CLOCK, "snapshot: VM state"),
    IOCTL(KVM_GET_IRQCHIP, "snapshot: VM state"),
    {0},
};

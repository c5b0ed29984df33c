/*
 * vCPU threads: run the guest and carry out its port and MMIO accesses.
 * Installed by each vCPU thread itself before its first KVM_RUN.
 */
#include "rules.h"

#include <linux/kvm.h>
#include <sys/mman.h>

const struct rule allow_vcpu[] = {
    IOCTL(KVM_RUN, "run the guest"),
    IOCTL(KVM_IRQ_LINE, "devices raise interrupts (UART, i8042) from the exit handler"),
    IOCTL(KVM_NMI, "inject-nmi: the watchdog/heartbeat action, taken on the vCPU's own thread"),
    IOCTL(KVM_KVMCLOCK_CTRL, "tell the guest it was paused, right before resuming"),
    IOCTL(KVM_GET_REGS, "read RIP for the message when the vCPU fails"),
    ALLOW("write", "console output, event wake-ups (eventfd), log lines on stderr"),
    ALLOW("futex", "VM lock and the pause rendezvous"),
    ALLOW("rt_sigreturn", "return from the kick signal's handler"),
    ALLOW("rt_sigprocmask", "libc blocks signals around thread exit"),
    ALLOW("clock_gettime", "guest time for device timers (when the vDSO falls back)"),
    ARG_MASKED("mmap", 2, PROT_EXEC, 0, "libc allocations; never executable"),
    ALLOW("munmap", "libc frees"),
    ALLOW("madvise", "libc returns a thread's stack on exit"),
    ALLOW("exit", "the thread ends"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

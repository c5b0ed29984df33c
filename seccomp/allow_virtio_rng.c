/* virtio-rng I/O thread: wait for kicks, fill guest buffers from getrandom. */
#include "rules.h"

#include <sys/mman.h>

const struct rule allow_virtio_rng[] = {
    ALLOW("epoll_wait", "wait for queue kicks (ioeventfds)"),
    ALLOW("epoll_pwait", "wait for queue kicks (libc may use this form)"),
    ALLOW("read", "drain the kick eventfds"),
    ALLOW("write", "signal the irqfd; log lines on stderr"),
    ALLOW("getrandom", "the entropy itself"),
    ALLOW("futex", "the device's register and I/O locks"),
    ALLOW("clock_gettime", "libc (when the vDSO falls back)"),
    ALLOW("rt_sigprocmask", "libc"),
    ARG_MASKED("mmap", 2, PROT_EXEC, 0, "libc allocations; never executable"),
    ALLOW("munmap", "libc frees"),
    ALLOW("madvise", "libc"),
    ALLOW("exit", "the thread ends"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

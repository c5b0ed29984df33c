/* virtio-net I/O threads: wait for kicks and the tap, move frames between guest RAM and the tap. */
#include "rules.h"

#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

const struct rule allow_virtio_net[] = {
    ALLOW("epoll_wait", "wait for queue kicks (ioeventfds) and tap frames"),
    ALLOW("epoll_pwait", "wait for queue kicks (libc may use this form)"),
    ALLOW("epoll_ctl", "stop waiting for the tap while the guest has no receive buffers, or for "
		       "good once it failed"),
    ALLOW("read", "drain the kick eventfds"),
    ALLOW("readv", "receive: a frame from the tap straight into guest buffers"),
    ALLOW("writev", "transmit: a frame from guest buffers to the tap"),
    ALLOW("write", "signal the irqfd; log lines on stderr"),
    IOCTL(TUNSETOFFLOAD, "tell the tap which offloads the driver negotiated"),
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

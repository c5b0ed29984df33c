/*
 * virtio-blk I/O threads: wait for kicks, take requests from the ring, hand
 * them to the disk's workers (and do a lone one itself).
 */
#include "rules.h"

#include <sys/mman.h>

const struct rule allow_virtio_blk[] = {
    ALLOW("epoll_wait", "wait for queue kicks (ioeventfds)"),
    ALLOW("epoll_pwait", "wait for queue kicks (libc may use this form)"),
    ALLOW("read", "drain the kick eventfds"),
    ALLOW("write", "signal the irqfd; log lines on stderr"),
    ALLOW("preadv", "read requests, straight into guest buffers"),
    ALLOW("pwritev", "write requests, straight from guest buffers"),
    ALLOW("pwrite64", "write-zeroes where hole punching is not supported"),
    ALLOW("fdatasync", "flush requests: make writes durable"),
    ALLOW("fallocate", "discard and write-zeroes punch holes"),
    ALLOW("futex", "the device's register and I/O locks; the request pool's lock and conditions"),
    ALLOW("clock_gettime", "libc (when the vDSO falls back)"),
    ALLOW("rt_sigprocmask", "libc"),
    ARG_MASKED("mmap", 2, PROT_EXEC, 0, "libc allocations; never executable"),
    ALLOW("munmap", "libc frees"),
    ALLOW("madvise", "libc"),
    ALLOW("exit", "the thread ends"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

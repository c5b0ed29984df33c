/*
 * virtio-blk workers (devices/virtio/blk_pool.c): run one checked request at
 * a time against the image or its overlay and publish it as used. No kicks
 * to wait for, no memory to allocate.
 */
#include "rules.h"

const struct rule allow_virtio_blk_worker[] = {
    ALLOW("preadv", "read requests, straight into guest buffers"),
    ALLOW("pwritev", "write requests, straight from guest buffers"),
    ALLOW("pwrite64", "write-zeroes where hole punching is not supported"),
    ALLOW("fdatasync", "flush requests: make writes durable"),
    ALLOW("fallocate", "discard and write-zeroes punch holes"),
    ALLOW("futex", "the request pool's lock and conditions"),
    ALLOW("write", "signal the irqfd; log lines on stderr"),
    ALLOW("rt_sigprocmask", "libc: a thread blocks signals as it ends"),
    ALLOW("exit", "the thread ends when the VM stops"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

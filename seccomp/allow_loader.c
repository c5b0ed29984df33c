/*
 * Loader thread: fills guest RAM (kernel, initrd, boot data) while the main
 * thread builds the VM, then ends; it is gone before any vCPU runs. It
 * touches no guest-controlled data, only the files the user named.
 */
#include "rules.h"

const struct rule allow_loader[] = {
    ALLOW("pread64", "read the --initrd file into guest RAM"),
    ALLOW("write", "log lines on stderr"),
    ALLOW("futex", "libc: wake the joining main thread at exit"),
    ALLOW("rt_sigprocmask", "libc blocks signals around thread exit"),
    ALLOW("exit", "the thread ends"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

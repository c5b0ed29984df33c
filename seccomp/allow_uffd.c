/*
 * The userfaultfd thread of `vmm restore --verify lazy`: takes first-touch
 * faults on guest RAM, checks the chunk's digest, copies it in.
 */
#include "rules.h"

#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

const struct rule allow_uffd[] = {
    ALLOW("read", "fault messages from the userfaultfd"),
    IOCTL(UFFDIO_COPY, "map a checked chunk into guest RAM"),
    IOCTL(UFFDIO_ZEROPAGE, "map a checked all-zero chunk (a hole in the file)"),
    IOCTL(UFFDIO_WAKE, "wake a second thread that touched a chunk already served"),
    ALLOW("lseek", "SEEK_DATA: is the chunk a hole in the file"),
    ALLOW("pread64", "read a chunk from the snapshot file into the buffer it is checked in"),
    ALLOW("write", "log line when a chunk fails; wake the event loop (eventfd)"),
    ALLOW("futex", "the VM lock (ending the VM)"),
    ALLOW("clock_gettime", "time spent per chunk (when the vDSO falls back)"),
    ALLOW("rt_sigprocmask", "libc"),
    ARG_MASKED("mmap", 2, PROT_EXEC, 0, "libc allocations; never executable"),
    ALLOW("munmap", "libc frees"),
    ALLOW("madvise", "libc"),
    ALLOW("exit", "the thread ends"),
    ALLOW("exit_group", "fatal errors end the process"),
    {0},
};

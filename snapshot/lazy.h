/* --verify lazy: guest RAM served chunk by chunk through userfaultfd, each checked first. */
#ifndef VMM_SNAPSHOT_LAZY_H
#define VMM_SNAPSHOT_LAZY_H

#include "../vm.h"
#include "format.h"

/*
 * Map anonymous guest RAM registered with a userfaultfd and point
 * vm->mem.host at it; chunks are read from file_fd (holes found with
 * SEEK_DATA). Returns 0, or
 * -1 with a reason in err when userfaultfd is not available (it needs root or
 * vm.unprivileged_userfaultfd=1 to serve faults KVM takes).
 */
int lazy_setup(struct vm *vm, const struct snap_file *f, int file_fd, char *err, size_t errlen);

/* Start the thread that serves first touches (before any vCPU runs). */
void lazy_start(void);

/* Chunks served so far and the time spent checking and copying them. */
void lazy_stats(uint64_t *chunks, uint64_t *ns);

#endif

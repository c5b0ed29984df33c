/* Restore-side helpers shared by `vmm restore` and `vmm inspect`. */
#ifndef VMM_SNAPSHOT_RESTORE_H
#define VMM_SNAPSHOT_RESTORE_H

#include <stdint.h>
#include <string.h>

/* When memory chunks are checked against their digests (DESIGN.md). */
enum verify_mode { VERIFY_LAZY, VERIFY_FULL, VERIFY_NONE };
#define VERIFY_DEFAULT VERIFY_LAZY

static inline int verify_parse(const char *s, enum verify_mode *m)
{
	if (strcmp(s, "lazy") == 0)
		*m = VERIFY_LAZY;
	else if (strcmp(s, "full") == 0)
		*m = VERIFY_FULL;
	else if (strcmp(s, "none") == 0)
		*m = VERIFY_NONE;
	else
		return -1;
	return 0;
}

/*
 * Open and map a snapshot file copy-on-write (read-only in effect: nothing
 * writes it). A missing file, a directory, a device node or an empty file
 * exits with status 1 and a message naming it. *fd_out, when not NULL, gets
 * the open descriptor.
 */
const uint8_t *snap_map_file(const char *path, uint64_t *len, int *fd_out);

#endif

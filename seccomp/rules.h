/*
 * Allow-list rules as data. Compiled only by the build-time generator
 * (seccomp/gen.c, host compiler + libseccomp), never into vmm itself: vmm
 * embeds the BPF programs the generator exports.
 */
#ifndef VMM_SECCOMP_RULES_H
#define VMM_SECCOMP_RULES_H

#include <stdint.h>

enum rule_cmp {
	ANY,	   /* no argument check */
	EQ32,	   /* (arg & 0xffffffff) == value: ioctl requests, which musl sign-extends */
	MASKED_EQ, /* (arg & mask) == value */
};

struct rule {
	const char *syscall;
	enum rule_cmp cmp;
	int arg;       /* argument index for EQ32 / MASKED_EQ */
	uint64_t mask; /* for MASKED_EQ */
	uint64_t value;
	const char *why; /* who needs it: kept next to the grant on purpose */
};

#define ALLOW(name, why)                                                                           \
	{                                                                                          \
		name, ANY, 0, 0, 0, why                                                            \
	}
#define IOCTL(req, why)                                                                            \
	{                                                                                          \
		"ioctl", EQ32, 1, 0, (uint32_t)(req), why                                          \
	}
#define ARG_MASKED(name, a, m, v, why)                                                             \
	{                                                                                          \
		name, MASKED_EQ, a, m, v, why                                                      \
	}

extern const struct rule allow_vcpu[], allow_main[], allow_virtio_blk[], allow_virtio_rng[],
    allow_virtio_blk_worker[], allow_virtio_net[], allow_uffd[];

#endif

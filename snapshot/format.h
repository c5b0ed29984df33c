/*
 * The snapshot file, version 1. All integers little-endian.
 *
 *   [0, 4096)              header (fixed fields, then zeros)
 *   [4096, units_end)      units: each a 32-byte unit header, then its data
 *                          padded to 8 bytes
 *   [mem_offset, +mem)     guest RAM, page-aligned: low RAM then high RAM;
 *                          all-zero pages are holes (sparse file)
 *   [footer_offset, end)   footer: magic, unit count, chunk count, one
 *                          SHA-256 per memory chunk, SHA-256 over header +
 *                          units + footer-before-the-hash, HMAC-SHA-256 of the
 *                          same (zeros when the file is not signed)
 *
 * The parser (snapshot/parse.c) is the boundary for untrusted files: it checks
 * every offset and size against the file before anything reads there.
 */
#ifndef VMM_SNAPSHOT_FORMAT_H
#define VMM_SNAPSHOT_FORMAT_H

#include "boot/le.h"
#include "digest.h"

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "VMMSNAP\0"
#define SNAP_FOOTER_MAGIC "VMMFOOT\0"
#define SNAP_VERSION 1
#define SNAP_HEADER_SIZE 4096u
#define SNAP_PAGE 4096u
/*
 * Memory digest granule: 256 KiB. A lazy restore checks a whole chunk on its
 * first touch (about 1 ms here), and the digest table a restore hashes up
 * front stays small (512 KiB for 4 GiB).
 */
#define SNAP_CHUNK (256u << 10)
#define SNAP_MAX_REGIONS 2
#define SNAP_MAX_UNITS 1024
#define SNAP_MAX_UNITS_BYTES (64u << 20)
#define SNAP_MAX_MEM (1ull << 46)
#define SNAP_UNIT_HDR 32u
#define SNAP_NAME_LEN 16

#define SNAP_F_HMAC 1u	      /* flags: the footer carries an HMAC */
#define SNAP_UNIT_OPTIONAL 1u /* unit flags: a reader that does not know it may skip it */

/* Header field offsets. */
#define H_MAGIC 0
#define H_VERSION 8
#define H_HEADER_SIZE 12
#define H_FLAGS 16
#define H_VENDOR 24    /* 12 bytes: CPUID leaf 0 EBX, EDX, ECX */
#define H_SIGNATURE 36 /* CPUID leaf 1 EAX: family, model, stepping */
#define H_FEATURES 40  /* SNAP_NFEAT u32 host feature words, see snap_feature_leaves */
#define SNAP_NFEAT 8
#define H_KVM_CAPS 72
#define H_XSAVE_SIZE 76
#define H_TSC_KHZ 80
#define H_NCPUS 84
#define H_MEM_SIZE 88
#define H_UNITS_OFFSET 96
#define H_UNITS_SIZE 104
#define H_UNIT_COUNT 112
#define H_NREGIONS 116
#define H_REGIONS 120 /* SNAP_MAX_REGIONS x {u64 gpa, u64 size, u64 file_offset} */
#define H_CHUNK_SIZE 168
#define H_CHUNK_COUNT 172
#define H_FOOTER_OFFSET 176
#define H_FOOTER_SIZE 184
#define H_CREATED_NS 192 /* CLOCK_REALTIME when written, for people */
#define H_USED 200

/* KVM capabilities a restore relies on (H_KVM_CAPS bits). */
#define SNAP_CAP_XSAVE2 1u
#define SNAP_CAP_TSC_CONTROL 2u
#define SNAP_CAP_XCRS 4u
#define SNAP_CAP_DEBUGREGS 8u

/* Footer layout. */
#define F_MAGIC 0
#define F_UNIT_COUNT 8
#define F_CHUNK_COUNT 12
#define F_DIGESTS 16
#define SNAP_FOOTER_SIZE(chunks) (16ull + DIGEST_LEN * (uint64_t)(chunks) + 2 * DIGEST_LEN)

struct snap_region {
	uint64_t gpa, size, offset;
};

struct snap_unit {
	char name[SNAP_NAME_LEN + 1];
	uint32_t instance, version, flags, length;
	const uint8_t *data;
};

/* A parsed, structurally checked file (pointers into the caller's buffer). */
struct snap_file {
	const uint8_t *base;
	uint64_t len;
	uint32_t version, flags;
	char vendor[13];
	uint32_t signature, features[SNAP_NFEAT], kvm_caps, xsave_size, tsc_khz, ncpus;
	uint64_t mem_size, created_ns;
	uint32_t nregions;
	struct snap_region regions[SNAP_MAX_REGIONS];
	uint64_t mem_offset; /* file offset of the first region */
	uint32_t chunk_size, chunk_count;
	uint64_t footer_offset;
	const uint8_t *digests; /* chunk_count x DIGEST_LEN */
	uint32_t nunits;
	struct snap_unit *units; /* malloc'd; snap_free() */
	int hash_ok, hmac_checked;
};

/*
 * Check a whole file image in buf[0, len): header fields, every offset and
 * size, the unit table, the footer, the integrity hash, and the HMAC:
 * with a key (key != NULL) the file must carry an HMAC made with it; without
 * one, a signed file is refused. Memory chunks are not read (see
 * snap_verify_chunk). Returns 0 with f filled in, or -1 with a reason in err.
 */
#define SNAP_PARSE_UNSIGNED_OK 1 /* inspect: a signed file without its key is read, unchecked */
int snap_parse(const uint8_t *buf, uint64_t len, const uint8_t *key, size_t keylen, int flags,
	       struct snap_file *f, char *err, size_t errlen);

/* Release what snap_parse allocated. */
void snap_free(struct snap_file *f);

/* The unit named name with instance, or NULL. */
const struct snap_unit *snap_find_unit(const struct snap_file *f, const char *name,
				       uint32_t instance);

/* 1 when memory chunk i (of the file in f->base) matches its digest. */
int snap_verify_chunk(const struct snap_file *f, uint32_t i, const uint8_t *mem);

/* SHA-256 of len zero bytes (without touching len bytes of memory). */
void snap_zero_digest(uint32_t len, uint8_t out[DIGEST_LEN]);

/* SHA-256 of one chunk of memory (len bytes). */
void snap_chunk_digest(const uint8_t *p, size_t len, uint8_t out[DIGEST_LEN]);

/* CPUID (leaf, subleaf, register 0 EAX .. 3 EDX) of each header feature word. */
struct snap_feature_leaf {
	uint32_t leaf, index, reg;
	const char *name;
};
extern const struct snap_feature_leaf snap_feature_leaves[SNAP_NFEAT];

/* Format a reason into err (errlen bytes) and return -1: the parsers' and writers' error path. */
int snap_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* Snapshot file parser: every offset and size checked before use. */
#include "format.h"

#include "../memory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct snap_feature_leaf snap_feature_leaves[SNAP_NFEAT] = {
    {1, 0, 2, "CPUID.1:ECX"},
    {1, 0, 3, "CPUID.1:EDX"},
    {7, 0, 1, "CPUID.7.0:EBX"},
    {7, 0, 2, "CPUID.7.0:ECX"},
    {7, 0, 3, "CPUID.7.0:EDX"},
    {0x80000001, 0, 2, "CPUID.80000001:ECX"},
    {0x80000001, 0, 3, "CPUID.80000001:EDX"},
    {0xd, 0, 0, "CPUID.D.0:EAX (XSAVE features)"},
};

int snap_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void snap_chunk_digest(const uint8_t *p, size_t len, uint8_t out[DIGEST_LEN])
{
	struct digest_sha256 d;
	digest_sha256_init(&d);
	digest_sha256_update(&d, p, len);
	digest_sha256_final(&d, out);
}

void snap_zero_digest(uint32_t len, uint8_t out[DIGEST_LEN])
{
	static uint8_t zero[SNAP_PAGE]; /* bss, not 4 KiB of the binary */
	struct digest_sha256 d;
	digest_sha256_init(&d);
	for (uint32_t n = 0; n < len; n += SNAP_PAGE)
		digest_sha256_update(&d, zero, len - n < SNAP_PAGE ? len - n : SNAP_PAGE);
	digest_sha256_final(&d, out);
}

static uint64_t chunk_len(const struct snap_file *f, uint32_t i)
{
	uint64_t start = (uint64_t)i * f->chunk_size;
	uint64_t n = f->mem_size - start;
	return n < f->chunk_size ? n : f->chunk_size;
}

int snap_verify_chunk(const struct snap_file *f, uint32_t i, const uint8_t *mem)
{
	uint8_t d[DIGEST_LEN];
	if (i >= f->chunk_count)
		return 0;
	snap_chunk_digest(mem + (uint64_t)i * f->chunk_size, (size_t)chunk_len(f, i), d);
	return digest_equal(d, f->digests + (uint64_t)i * DIGEST_LEN);
}

/* The fixed header fields; sizes checked against each other, not yet the file. */
static int parse_header(const uint8_t *h, struct snap_file *f, char *err, size_t errlen)
{
	if (memcmp(h + H_MAGIC, SNAP_MAGIC, 8) != 0)
		return snap_fail(err, errlen, "not a vmm snapshot (bad magic)");
	f->version = (uint32_t)get_le(h + H_VERSION, 4);
	if (f->version != SNAP_VERSION)
		return snap_fail(err, errlen,
				 "snapshot format version %u; this vmm reads version %u",
				 f->version, SNAP_VERSION);
	if (get_le(h + H_HEADER_SIZE, 4) != SNAP_HEADER_SIZE)
		return snap_fail(err, errlen, "header size %llu, expected %u",
				 (unsigned long long)get_le(h + H_HEADER_SIZE, 4),
				 SNAP_HEADER_SIZE);
	for (uint32_t i = H_USED; i < SNAP_HEADER_SIZE; i++)
		if (h[i])
			return snap_fail(err, errlen, "header byte %u is not zero", i);
	f->flags = (uint32_t)get_le(h + H_FLAGS, 4);
	if (f->flags & ~SNAP_F_HMAC)
		return snap_fail(err, errlen, "unknown header flags 0x%x", f->flags);
	memcpy(f->vendor, h + H_VENDOR, 12);
	f->vendor[12] = 0;
	f->signature = (uint32_t)get_le(h + H_SIGNATURE, 4);
	for (int i = 0; i < SNAP_NFEAT; i++)
		f->features[i] = (uint32_t)get_le(h + H_FEATURES + 4 * i, 4);
	f->kvm_caps = (uint32_t)get_le(h + H_KVM_CAPS, 4);
	f->xsave_size = (uint32_t)get_le(h + H_XSAVE_SIZE, 4);
	f->tsc_khz = (uint32_t)get_le(h + H_TSC_KHZ, 4);
	f->ncpus = (uint32_t)get_le(h + H_NCPUS, 4);
	f->mem_size = get_le(h + H_MEM_SIZE, 8);
	f->created_ns = get_le(h + H_CREATED_NS, 8);
	if (f->ncpus < 1 || f->ncpus > 254)
		return snap_fail(err, errlen, "vCPU count %u outside 1..254", f->ncpus);
	if (f->mem_size < SNAP_PAGE || f->mem_size % SNAP_PAGE || f->mem_size > SNAP_MAX_MEM)
		return snap_fail(err, errlen,
				 "memory size %llu is not a page multiple up to 64 TiB",
				 (unsigned long long)f->mem_size);
	if (f->xsave_size < 4096 || f->xsave_size > (1u << 20))
		return snap_fail(err, errlen, "XSAVE size %u outside 4 KiB..1 MiB", f->xsave_size);
	return 0;
}

/* Regions must be the layout vmm gives that much RAM, back to back in the file. */
static int parse_regions(const uint8_t *h, struct snap_file *f, char *err, size_t errlen)
{
	struct guest_mem m;
	mem_layout(&m, f->mem_size);
	uint32_t want = m.high_size ? 2 : 1;
	f->nregions = (uint32_t)get_le(h + H_NREGIONS, 4);
	if (f->nregions != want)
		return snap_fail(err, errlen, "%u memory regions; %llu MiB of RAM has %u",
				 f->nregions, (unsigned long long)(f->mem_size >> 20), want);
	uint64_t expect_gpa[2] = {0, MMIO_GAP_END}, expect_size[2] = {m.low_size, m.high_size};
	for (uint32_t i = 0; i < f->nregions; i++) {
		struct snap_region *r = &f->regions[i];
		const uint8_t *p = h + H_REGIONS + 24 * i;
		r->gpa = get_le(p, 8);
		r->size = get_le(p + 8, 8);
		r->offset = get_le(p + 16, 8);
		if (r->gpa != expect_gpa[i] || r->size != expect_size[i])
			return snap_fail(
			    err, errlen,
			    "memory region %u is 0x%llx+0x%llx, expected 0x%llx+0x%llx", i,
			    (unsigned long long)r->gpa, (unsigned long long)r->size,
			    (unsigned long long)expect_gpa[i], (unsigned long long)expect_size[i]);
	}
	f->mem_offset = f->regions[0].offset;
	if (f->mem_offset % SNAP_PAGE)
		return snap_fail(err, errlen, "memory at file offset 0x%llx is not page-aligned",
				 (unsigned long long)f->mem_offset);
	if (f->nregions == 2 && f->regions[1].offset != f->mem_offset + f->regions[0].size)
		return snap_fail(err, errlen,
				 "memory region 1 does not follow region 0 in the file");
	return 0;
}

static int parse_layout(const uint8_t *h, struct snap_file *f, char *err, size_t errlen)
{
	uint64_t uoff = get_le(h + H_UNITS_OFFSET, 8), usize = get_le(h + H_UNITS_SIZE, 8);
	f->nunits = (uint32_t)get_le(h + H_UNIT_COUNT, 4);
	if (uoff != SNAP_HEADER_SIZE)
		return snap_fail(err, errlen, "units at offset %llu, expected %u",
				 (unsigned long long)uoff, SNAP_HEADER_SIZE);
	if (usize > SNAP_MAX_UNITS_BYTES || f->nunits > SNAP_MAX_UNITS || usize % 8)
		return snap_fail(err, errlen,
				 "unit table of %llu bytes / %u units is out of bounds",
				 (unsigned long long)usize, f->nunits);
	if (f->mem_offset < uoff + usize)
		return snap_fail(
		    err, errlen, "memory (offset 0x%llx) overlaps the units (end 0x%llx)",
		    (unsigned long long)f->mem_offset, (unsigned long long)(uoff + usize));
	if (f->mem_offset - (uoff + usize) >= SNAP_PAGE)
		return snap_fail(err, errlen, "a gap of %llu bytes before memory",
				 (unsigned long long)(f->mem_offset - (uoff + usize)));
	f->chunk_size = (uint32_t)get_le(h + H_CHUNK_SIZE, 4);
	f->chunk_count = (uint32_t)get_le(h + H_CHUNK_COUNT, 4);
	if (f->chunk_size < SNAP_PAGE || f->chunk_size > (64u << 20) ||
	    (f->chunk_size & (f->chunk_size - 1)))
		return snap_fail(err, errlen,
				 "memory chunk size %u is not a power of two from 4 KiB to 64 MiB",
				 f->chunk_size);
	uint64_t chunks = (f->mem_size + f->chunk_size - 1) / f->chunk_size;
	if (f->chunk_count != chunks)
		return snap_fail(err, errlen, "%u memory digests for %llu chunks", f->chunk_count,
				 (unsigned long long)chunks);
	f->footer_offset = get_le(h + H_FOOTER_OFFSET, 8);
	if (f->footer_offset != f->mem_offset + f->mem_size)
		return snap_fail(err, errlen,
				 "footer at 0x%llx, expected right after memory at 0x%llx",
				 (unsigned long long)f->footer_offset,
				 (unsigned long long)(f->mem_offset + f->mem_size));
	if (get_le(h + H_FOOTER_SIZE, 8) != SNAP_FOOTER_SIZE(chunks))
		return snap_fail(err, errlen, "footer size %llu, expected %llu",
				 (unsigned long long)get_le(h + H_FOOTER_SIZE, 8),
				 (unsigned long long)SNAP_FOOTER_SIZE(chunks));
	return 0;
}

static int parse_units(const uint8_t *buf, uint64_t usize, struct snap_file *f, char *err,
		       size_t errlen)
{
	const uint8_t *p = buf + SNAP_HEADER_SIZE;
	uint64_t pos = 0;
	f->units = calloc(f->nunits ? f->nunits : 1, sizeof(*f->units));
	if (!f->units)
		return snap_fail(err, errlen, "out of memory for %u units", f->nunits);
	for (uint32_t i = 0; i < f->nunits; i++) {
		struct snap_unit *u = &f->units[i];
		if (usize - pos < SNAP_UNIT_HDR)
			return snap_fail(err, errlen, "unit %u header runs past the unit table", i);
		const uint8_t *uh = p + pos;
		memcpy(u->name, uh, SNAP_NAME_LEN);
		u->name[SNAP_NAME_LEN] = 0;
		size_t nl = strlen(u->name);
		if (nl == 0 || nl == SNAP_NAME_LEN)
			return snap_fail(err, errlen, "unit %u has no NUL-terminated name", i);
		for (size_t k = nl; k < SNAP_NAME_LEN; k++)
			if (uh[k])
				return snap_fail(err, errlen,
						 "unit %u name has bytes after its NUL", i);
		for (size_t k = 0; k < nl; k++)
			if (uh[k] < 0x21 || uh[k] > 0x7e)
				return snap_fail(err, errlen,
						 "unit %u name has a non-printable byte", i);
		u->instance = (uint32_t)get_le(uh + 16, 4);
		u->version = (uint32_t)get_le(uh + 20, 4);
		u->flags = (uint32_t)get_le(uh + 24, 4);
		u->length = (uint32_t)get_le(uh + 28, 4);
		pos += SNAP_UNIT_HDR;
		uint64_t padded = ((uint64_t)u->length + 7) & ~7ull;
		if (padded > usize - pos)
			return snap_fail(err, errlen,
					 "unit %u (%s) of %u bytes runs past the unit table", i,
					 u->name, u->length);
		u->data = p + pos;
		for (uint64_t k = u->length; k < padded; k++)
			if (u->data[k])
				return snap_fail(err, errlen, "unit %u (%s) padding is not zero", i,
						 u->name);
		pos += padded;
		for (uint32_t k = 0; k < i; k++)
			if (f->units[k].instance == u->instance &&
			    !strcmp(f->units[k].name, u->name))
				return snap_fail(err, errlen, "unit %s instance %u appears twice",
						 u->name, u->instance);
	}
	if (pos != usize)
		return snap_fail(err, errlen, "%llu stray bytes after the last unit",
				 (unsigned long long)(usize - pos));
	return 0;
}

static int check_footer(const uint8_t *buf, struct snap_file *f, uint64_t usize, const uint8_t *key,
			size_t keylen, int flags, char *err, size_t errlen)
{
	const uint8_t *ft = buf + f->footer_offset;
	if (memcmp(ft + F_MAGIC, SNAP_FOOTER_MAGIC, 8) != 0)
		return snap_fail(err, errlen, "footer magic missing at offset 0x%llx",
				 (unsigned long long)f->footer_offset);
	if (get_le(ft + F_UNIT_COUNT, 4) != f->nunits ||
	    get_le(ft + F_CHUNK_COUNT, 4) != f->chunk_count)
		return snap_fail(err, errlen,
				 "footer counts (%u units, %u chunks) differ from the header",
				 (uint32_t)get_le(ft + F_UNIT_COUNT, 4),
				 (uint32_t)get_le(ft + F_CHUNK_COUNT, 4));
	f->digests = ft + F_DIGESTS;
	size_t covered = F_DIGESTS + (size_t)DIGEST_LEN * f->chunk_count;
	const uint8_t *hash = ft + covered, *mac = hash + DIGEST_LEN;
	uint8_t got[DIGEST_LEN];
	struct digest_sha256 d;
	digest_sha256_init(&d);
	digest_sha256_update(&d, buf, SNAP_HEADER_SIZE);
	digest_sha256_update(&d, buf + SNAP_HEADER_SIZE, (size_t)usize);
	digest_sha256_update(&d, ft, covered);
	digest_sha256_final(&d, got);
	if (!digest_equal(got, hash))
		return snap_fail(err, errlen,
				 "integrity hash does not match: header, units or digest "
				 "table altered");
	f->hash_ok = 1;
	int signed_file = !!(f->flags & SNAP_F_HMAC);
	if (!key) {
		if (signed_file && (flags & SNAP_PARSE_UNSIGNED_OK))
			return 0;
		if (signed_file)
			return snap_fail(err, errlen,
					 "the file is signed (HMAC): give its --snapshot-key");
		for (int i = 0; i < DIGEST_LEN; i++)
			if (mac[i])
				return snap_fail(err, errlen,
						 "unsigned file with a non-zero HMAC field");
		return 0;
	}
	if (!signed_file)
		return snap_fail(err, errlen,
				 "the file is not signed, but --snapshot-key was given");
	struct digest_hmac h;
	digest_hmac_init(&h, key, keylen);
	digest_hmac_update(&h, buf, SNAP_HEADER_SIZE);
	digest_hmac_update(&h, buf + SNAP_HEADER_SIZE, (size_t)usize);
	digest_hmac_update(&h, ft, covered);
	digest_hmac_final(&h, got);
	if (!digest_equal(got, mac))
		return snap_fail(err, errlen,
				 "HMAC does not match: wrong --snapshot-key, or the file was "
				 "altered");
	f->hmac_checked = 1;
	return 0;
}

int snap_parse(const uint8_t *buf, uint64_t len, const uint8_t *key, size_t keylen, int flags,
	       struct snap_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->base = buf;
	f->len = len;
	if (len < SNAP_HEADER_SIZE)
		return snap_fail(err, errlen, "truncated: %llu bytes, the header alone is %u",
				 (unsigned long long)len, SNAP_HEADER_SIZE);
	if (parse_header(buf, f, err, errlen) || parse_regions(buf, f, err, errlen) ||
	    parse_layout(buf, f, err, errlen))
		return -1;
	uint64_t usize = get_le(buf + H_UNITS_SIZE, 8);
	uint64_t end = f->footer_offset + SNAP_FOOTER_SIZE(f->chunk_count);
	if (len < end)
		return snap_fail(err, errlen, "truncated: %llu bytes, the header says %llu",
				 (unsigned long long)len, (unsigned long long)end);
	if (len > end)
		return snap_fail(err, errlen, "%llu unexpected bytes after the footer",
				 (unsigned long long)(len - end));
	if (check_footer(buf, f, usize, key, keylen, flags, err, errlen) ||
	    parse_units(buf, usize, f, err, errlen)) {
		snap_free(f);
		return -1;
	}
	return 0;
}

void snap_free(struct snap_file *f)
{
	free(f->units);
	f->units = NULL;
}

const struct snap_unit *snap_find_unit(const struct snap_file *f, const char *name,
				       uint32_t instance)
{
	for (uint32_t i = 0; i < f->nunits; i++)
		if (f->units[i].instance == instance && strcmp(f->units[i].name, name) == 0)
			return &f->units[i];
	return NULL;
}

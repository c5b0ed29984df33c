/*
 * Byte buffers for device snapshot units: each device writes its own state
 * with these in save() and reads it back, checked, in load(). Little-endian.
 */
#ifndef VMM_SNAPSHOT_UNIT_H
#define VMM_SNAPSHOT_UNIT_H

#include <stddef.h>
#include <stdint.h>

struct unit_writer {
	uint8_t *buf;
	size_t len, cap;
	int failed; /* set when an allocation failed; the unit is then unusable */
};

struct unit_reader {
	const uint8_t *buf;
	size_t len, pos;
	int failed; /* set when a read ran past the end; values read are 0 */
};

void uw_u8(struct unit_writer *w, uint8_t v);
void uw_u16(struct unit_writer *w, uint16_t v);
void uw_u32(struct unit_writer *w, uint32_t v);
void uw_u64(struct unit_writer *w, uint64_t v);
void uw_bytes(struct unit_writer *w, const void *p, size_t n);
void uw_free(struct unit_writer *w);

uint8_t ur_u8(struct unit_reader *r);
uint16_t ur_u16(struct unit_reader *r);
uint32_t ur_u32(struct unit_reader *r);
uint64_t ur_u64(struct unit_reader *r);
void ur_bytes(struct unit_reader *r, void *p, size_t n);

/* 1 when the whole unit was read without running past its end. */
int ur_done(const struct unit_reader *r);

#endif

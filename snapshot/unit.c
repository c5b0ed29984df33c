/* Little-endian byte buffers for device snapshot units. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

void uw_bytes(struct unit_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *nb = realloc(w->buf, cap);
		if (!nb) {
			w->failed = 1;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void uw_le(struct unit_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	uw_bytes(w, b, n);
}

void uw_u8(struct unit_writer *w, uint8_t v)
{
	uw_le(w, v, 1);
}
void uw_u16(struct unit_writer *w, uint16_t v)
{
	uw_le(w, v, 2);
}
void uw_u32(struct unit_writer *w, uint32_t v)
{
	uw_le(w, v, 4);
}
void uw_u64(struct unit_writer *w, uint64_t v)
{
	uw_le(w, v, 8);
}

void uw_free(struct unit_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void ur_bytes(struct unit_reader *r, void *p, size_t n)
{
	if (r->failed || n > r->len - r->pos) {
		r->failed = 1;
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->buf + r->pos, n);
	r->pos += n;
}

static uint64_t ur_le(struct unit_reader *r, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;
	ur_bytes(r, b, n);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t ur_u8(struct unit_reader *r)
{
	return (uint8_t)ur_le(r, 1);
}
uint16_t ur_u16(struct unit_reader *r)
{
	return (uint16_t)ur_le(r, 2);
}
uint32_t ur_u32(struct unit_reader *r)
{
	return (uint32_t)ur_le(r, 4);
}
uint64_t ur_u64(struct unit_reader *r)
{
	return ur_le(r, 8);
}

int ur_done(const struct unit_reader *r)
{
	return !r->failed && r->pos == r->len;
}

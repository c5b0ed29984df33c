/* Intel MultiProcessor Specification 1.4 table: how Linux finds CPUs without ACPI. */
#include "bootparams.h"

#include "layout.h"

#include <string.h>

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4
#define MP_IRQ_INT 0
#define MP_IRQ_NMI 1
#define MP_IRQ_EXTINT 3
#define MP_NR_IRQS 24
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11

static uint8_t checksum(const uint8_t *p, uint32_t n)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

static uint8_t *entry(uint8_t **pos, int len, uint8_t type)
{
	uint8_t *e = *pos;
	memset(e, 0, (size_t)len);
	e[0] = type;
	*pos += len;
	return e;
}

uint32_t mptable_write(const struct guest_mem *m, int ncpus)
{
	uint32_t size = 16 + 44 + 20 * (uint32_t)ncpus + 8 + 8 + 8 * MP_NR_IRQS + 8 * 2;
	uint8_t *base = gpa_to_hva(m, BOOT_MPTABLE, size);
	uint8_t *table = base + 16, *pos = table + 44;
	uint8_t ioapic_id = (uint8_t)ncpus;

	for (int i = 0; i < ncpus; i++) {
		uint8_t *e = entry(&pos, 20, MP_PROCESSOR);
		e[1] = (uint8_t)i;
		e[2] = APIC_VERSION;
		e[3] = 0x1 | (i == 0 ? 0x2 : 0); /* enabled, bootstrap */
		put_le(e + 4, 0x600, 4);	 /* family 6 */
		put_le(e + 8, 0x201, 4);	 /* FPU and APIC present */
	}
	uint8_t *bus = entry(&pos, 8, MP_BUS);
	memcpy(bus + 2, "ISA   ", 6);
	uint8_t *io = entry(&pos, 8, MP_IOAPIC);
	io[1] = ioapic_id;
	io[2] = IOAPIC_VERSION;
	io[3] = 1; /* enabled */
	put_le(io + 4, IOAPIC_ADDR, 4);
	for (int irq = 0; irq < MP_NR_IRQS; irq++) {
		/* ISA default polarity: edge, active high; pin = IRQ as KVM routes it. */
		uint8_t *e = entry(&pos, 8, MP_INTSRC);
		e[1] = MP_IRQ_INT;
		e[5] = (uint8_t)irq;
		e[6] = ioapic_id;
		e[7] = (uint8_t)irq;
	}
	uint8_t *ext = entry(&pos, 8, MP_LINTSRC);
	ext[1] = MP_IRQ_EXTINT; /* PIC output to LINT0 of the BSP */
	uint8_t *nmi = entry(&pos, 8, MP_LINTSRC);
	nmi[1] = MP_IRQ_NMI;
	nmi[6] = 0xff; /* every local APIC */
	nmi[7] = 1;    /* LINT1 */

	uint32_t tlen = (uint32_t)(pos - table);
	memcpy(table, "PCMP", 4);
	put_le(table + 4, tlen, 2);
	table[6] = 4; /* spec revision 1.4 */
	memcpy(table + 8, "VMM     ", 8);
	memcpy(table + 16, "VMM MPTABLE ", 12);
	put_le(table + 34, (uint64_t)(2 + ncpus + MP_NR_IRQS + 2), 2); /* entry count */
	put_le(table + 36, LAPIC_ADDR, 4);
	table[7] = 0;
	table[7] = checksum(table, tlen);

	memset(base, 0, 16);
	memcpy(base, "_MP_", 4);
	put_le(base + 4, BOOT_MPTABLE + 16, 4);
	base[8] = 1; /* length in 16-byte units */
	base[9] = 4;
	base[10] = checksum(base, 16);
	return 16 + tlen;
}

/* Tiny test guests: port I/O, MMIO, serial output and exit through the heartbeat. */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

#include "../../../devices/pseudo/heartbeat_regs.h"

#define COM1 0x3f8
#define HB_BASE HB_BASE_ADDR

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

/* vmm's UART is always ready to send, so no LSR polling (fewer exits). */
static inline void putch(char c)
{
	outb(COM1, (uint8_t)c);
}

static inline void puts_(const char *s)
{
	while (*s)
		putch(*s++);
}

static inline void puthex(uint32_t v)
{
	puts_("0x");
	for (int i = 28; i >= 0; i -= 4)
		putch("0123456789abcdef"[(v >> i) & 0xf]);
}

static inline void puthex64(uint64_t v)
{
	for (int i = 60; i >= 0; i -= 4)
		putch("0123456789abcdef"[(v >> i) & 0xf]);
}

static inline void putdec(uint32_t v)
{
	char b[12];
	int n = 0;
	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putch(b[--n]);
}

static inline __attribute__((noreturn)) void guest_exit(uint32_t code)
{
	mmio_write32(HB_BASE + HB_EXIT, code);
	for (;;)
		__asm__ volatile("hlt");
}

/* EXIT on vmm; on a VMM without the heartbeat, QEMU's isa-debug-exit at 0xf4. */
static inline __attribute__((noreturn)) void guest_exit_or_debug_port(uint32_t code)
{
	mmio_write32(HB_BASE + HB_EXIT, code);
	__asm__ volatile("outl %0, %1" : : "a"(code), "Nd"((uint16_t)0xf4));
	for (;;)
		__asm__ volatile("hlt");
}

/* Host wall clock in ns from the heartbeat's HOST_TIME (LO read latches HI). */
static inline uint64_t host_time_ns(void)
{
	uint32_t lo = mmio_read32(HB_BASE + HB_HOST_TIME_LO);
	return (uint64_t)mmio_read32(HB_BASE + HB_HOST_TIME_HI) << 32 | lo;
}

/* Spin for ms milliseconds of host time (64-bit guests only). */
static inline void delay_ms(uint32_t ms)
{
	uint64_t end = host_time_ns() + (uint64_t)ms * 1000000u;
	while (host_time_ns() < end)
		;
}

static inline __attribute__((noreturn)) void fail(const char *why)
{
	puts_("FAIL: ");
	puts_(why);
	putch('\n');
	guest_exit(1);
}

static inline int streq_prefix(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

/* Value of "key=NUMBER" in a command line, or def. */
static inline uint32_t cmdline_uint(const char *cmdline, const char *key, uint32_t def)
{
	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && streq_prefix(p, key)) {
			const char *q = p;
			while (*q && *q != '=')
				q++;
			if (*q != '=')
				return def;
			uint32_t v = 0;
			for (q++; *q >= '0' && *q <= '9'; q++)
				v = v * 10 + (uint32_t)(*q - '0');
			return v;
		}
	}
	return def;
}

#endif

/* 8250/16550A UART model: the console on COM1. */
#include "serial.h"

#include "../snapshot/unit.h"

#include <string.h>
#include <unistd.h>
#include <stdint.h>

/* Register offsets (DLAB selects the divisor latch at 0 and 1). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void serial_update_irq(struct serial *s)
{
	uint8_t level = !(serial_iir(s) & IIR_NONE);
	if (level != s->irq_level) {
		s->irq_level = level;
		s->hooks->irq_line(s->hooks->ctx, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == SERIAL_RX_SIZE)
		return;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_SIZE] = c;
	s->rx_count++;
}

static uint8_t rx_pop(struct serial *s)
{
	if (!s->rx_count)
		return 0;
	uint8_t c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
	s->rx_count--;
	if (s->rx_was_full && s->wake_fd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(s->wake_fd, &one, sizeof(one));
		(void)r;
	}
	s->rx_was_full = 0;
	return c;
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	s->tx_bytes++;
	if (s->mcr & MCR_LOOP) {
		rx_push(s, c);
	} else if (s->out_fd >= 0) {
		ssize_t r = write(s->out_fd, &c, 1);
		(void)r; /* a closed console must not stop the guest */
	}
	s->thri = 1; /* the byte left at once: the holding register is empty again */
}

static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t m = 0;
	if (s->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (s->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (s->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static uint8_t serial_read_reg(struct serial *s, uint64_t off)
{
	uint8_t v;
	switch (off) {
	case UART_RBR_THR:
		return (s->lcr & LCR_DLAB) ? s->dll : rx_pop(s);
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR_FCR:
		v = serial_iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thri = 0; /* reading IIR acknowledges THRE */
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case UART_MSR:
		return serial_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

static void serial_write_reg(struct serial *s, uint64_t off, uint8_t v)
{
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty holding register interrupts at once. */
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri = 1;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only; factory test writes are ignored */
	case UART_SCR:
		s->scr = v;
		break;
	}
}

static void serial_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct serial *s = dev;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = serial_read_reg(s, off + i);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct serial *s = dev;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len; i++)
		serial_write_reg(s, off + i, data[i]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_reset_locked(struct serial *s)
{
	s->ier = s->mcr = s->scr = s->fcr = s->dlm = 0;
	s->lcr = 0x03;
	s->dll = 0x0c; /* 9600 baud, as a PC BIOS leaves it */
	s->thri = 0;
	s->rx_head = s->rx_count = 0;
	serial_update_irq(s);
}

static void serial_reset(void *dev)
{
	struct serial *s = dev;
	pthread_mutex_lock(&s->lock);
	serial_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
}

uint32_t serial_push_input(struct serial *s, const uint8_t *buf, uint32_t n)
{
	pthread_mutex_lock(&s->lock);
	uint32_t take = SERIAL_RX_SIZE - s->rx_count;
	if (take > n)
		take = n;
	for (uint32_t i = 0; i < take; i++)
		rx_push(s, buf[i]);
	if (s->rx_count == SERIAL_RX_SIZE)
		s->rx_was_full = 1;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return take;
}

uint32_t serial_rx_space(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	uint32_t space = SERIAL_RX_SIZE - s->rx_count;
	if (!space)
		s->rx_was_full = 1;
	pthread_mutex_unlock(&s->lock);
	return space;
}

static void serial_save(void *dev, struct unit_writer *w)
{
	struct serial *s = dev;
	pthread_mutex_lock(&s->lock);
	uint8_t regs[] = {s->ier, s->lcr, s->mcr, s->scr, s->fcr, s->dll, s->dlm, s->thri};
	uw_bytes(w, regs, sizeof(regs));
	uw_u32(w, s->rx_count);
	for (uint32_t i = 0; i < s->rx_count; i++)
		uw_u8(w, s->rx[(s->rx_head + i) % SERIAL_RX_SIZE]);
	pthread_mutex_unlock(&s->lock);
}

static int serial_load(void *dev, struct unit_reader *r, uint32_t version)
{
	struct serial *s = dev;
	if (version != 1)
		return -1;
	uint8_t regs[8];
	ur_bytes(r, regs, sizeof(regs));
	uint32_t count = ur_u32(r);
	if (r->failed || count > SERIAL_RX_SIZE || regs[7] > 1)
		return -1;
	pthread_mutex_lock(&s->lock);
	serial_reset_locked(s);
	s->irq_level = 0; /* a restored machine's line starts low: drive it again */
	s->ier = regs[0] & 0x0f;
	s->lcr = regs[1];
	s->mcr = regs[2] & 0x1f;
	s->scr = regs[3];
	s->fcr = regs[4] & 0xc9;
	s->dll = regs[5];
	s->dlm = regs[6];
	s->thri = regs[7];
	for (uint32_t i = 0; i < count; i++)
		rx_push(s, ur_u8(r));
	int ok = ur_done(r);
	if (!ok)
		serial_reset_locked(s);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return ok ? 0 : -1;
}

const struct device_ops serial_ops = {
    .name = "serial",
    .version = 1,
    .read = serial_read,
    .write = serial_write,
    .reset = serial_reset,
    .save = serial_save,
    .load = serial_load,
};

void serial_init(struct serial *s, const struct machine_hooks *hooks, uint32_t irq, int out_fd,
		 int wake_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->hooks = hooks;
	s->irq = irq;
	s->out_fd = out_fd;
	s->wake_fd = wake_fd;
	serial_reset_locked(s);
}

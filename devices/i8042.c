/* i8042 keyboard controller: probe answers, keyboard acks, and system reset. */
#include "i8042.h"

#include "../snapshot/unit.h"

#include <string.h>

#define PORT_DATA 0
#define PORT_CMD 4

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08
#define STS_UNLOCKED 0x10 /* keylock switch open: Linux warns otherwise */
#define CTR_KBD_INT 0x01
#define CTR_SYS 0x04
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define CTR_XLATE 0x40
#define KBD_IRQ 1

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPORT 0xd0
#define CMD_WRITE_OUTPORT 0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_PULSE_RESET 0xfe

#define KBD_ACK 0xfa

static void i8042_update_irq(struct i8042 *k)
{
	uint8_t level = k->qcount && (k->ctr & CTR_KBD_INT);
	if (level != k->irq_level) {
		k->irq_level = level;
		k->hooks->irq_line(k->hooks->ctx, KBD_IRQ, level);
	}
}

static void queue_byte(struct i8042 *k, uint8_t b)
{
	if (k->qcount < I8042_QUEUE)
		k->queue[(k->qhead + k->qcount++) % I8042_QUEUE] = b;
}

static uint8_t dequeue_byte(struct i8042 *k)
{
	if (!k->qcount)
		return 0;
	uint8_t b = k->queue[k->qhead];
	k->qhead = (k->qhead + 1) % I8042_QUEUE;
	k->qcount--;
	return b;
}

static void keyboard_command(struct i8042 *k, uint8_t v)
{
	if (k->kbd_cmd) { /* parameter of LED or typematic command */
		k->kbd_cmd = 0;
		queue_byte(k, KBD_ACK);
		return;
	}
	queue_byte(k, KBD_ACK);
	switch (v) {
	case 0xff: /* reset: ack, then self-test passed */
		queue_byte(k, 0xaa);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		queue_byte(k, 0xab);
		queue_byte(k, 0x83);
		break;
	case 0xed: /* set LEDs */
	case 0xf3: /* set typematic rate */
		k->kbd_cmd = v;
		break;
	}
}

static void controller_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTPORT:
		if (!(v & 1))
			k->hooks->reset(k->hooks->ctx, "i8042 output port reset line");
		break;
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
		queue_byte(k, v);
		break;
	case CMD_WRITE_AUX:
		break; /* no mouse behind the controller */
	}
}

static void controller_command(struct i8042 *k, uint8_t v)
{
	switch (v) {
	case CMD_READ_CTR:
		queue_byte(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPORT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending_cmd = v;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= (uint8_t)~CTR_AUX_DISABLE;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		queue_byte(k, 0x00);
		break;
	case CMD_SELF_TEST:
		queue_byte(k, 0x55);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= (uint8_t)~CTR_KBD_DISABLE;
		break;
	case CMD_READ_OUTPORT:
		queue_byte(k, 0x01); /* reset line high: running */
		break;
	case CMD_PULSE_RESET:
		k->hooks->reset(k->hooks->ctx, "i8042 reset (reboot=k)");
		break;
	}
}

static void i8042_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	pthread_mutex_lock(&k->lock);
	memset(data, 0xff, len);
	if (off == PORT_DATA) {
		data[0] = dequeue_byte(k);
		/*
		 * A real 8042 raises IRQ 1 afresh for every byte it places in the
		 * output buffer; the guest reads one byte per interrupt. Drop the
		 * line so that the next queued byte makes a new edge.
		 */
		if (k->irq_level) {
			k->irq_level = 0;
			k->hooks->irq_line(k->hooks->ctx, KBD_IRQ, 0);
		}
	} else if (off == PORT_CMD)
		data[0] = (k->qcount ? STS_OBF : 0) | STS_SYS | STS_UNLOCKED |
			  (k->last_was_cmd ? STS_CMD : 0);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	(void)len;
	pthread_mutex_lock(&k->lock);
	if (off == PORT_DATA) {
		k->last_was_cmd = 0;
		uint8_t cmd = k->pending_cmd;
		k->pending_cmd = 0;
		if (cmd)
			controller_data(k, cmd, data[0]);
		else
			keyboard_command(k, data[0]);
	} else if (off == PORT_CMD) {
		k->last_was_cmd = 1;
		controller_command(k, data[0]);
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_reset_locked(struct i8042 *k)
{
	k->ctr = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
	k->pending_cmd = k->kbd_cmd = k->last_was_cmd = 0;
	k->qhead = k->qcount = 0;
	i8042_update_irq(k);
}

static void i8042_reset(void *dev)
{
	struct i8042 *k = dev;
	pthread_mutex_lock(&k->lock);
	i8042_reset_locked(k);
	pthread_mutex_unlock(&k->lock);
}

void i8042_send_scancodes(struct i8042 *k, const uint8_t *codes, int n)
{
	pthread_mutex_lock(&k->lock);
	for (int i = 0; i < n; i++)
		queue_byte(k, codes[i]);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_save(void *dev, struct unit_writer *w)
{
	struct i8042 *k = dev;
	pthread_mutex_lock(&k->lock);
	uw_u8(w, k->ctr);
	uw_u8(w, k->pending_cmd);
	uw_u8(w, k->kbd_cmd);
	uw_u8(w, k->last_was_cmd);
	uw_u8(w, k->qcount);
	for (int i = 0; i < k->qcount; i++)
		uw_u8(w, k->queue[(k->qhead + i) % I8042_QUEUE]);
	pthread_mutex_unlock(&k->lock);
}

static int i8042_load(void *dev, struct unit_reader *r, uint32_t version)
{
	struct i8042 *k = dev;
	if (version != 1)
		return -1;
	uint8_t ctr = ur_u8(r), pending = ur_u8(r), kbd_cmd = ur_u8(r), last = ur_u8(r);
	uint8_t count = ur_u8(r);
	if (r->failed || count > I8042_QUEUE || last > 1)
		return -1;
	pthread_mutex_lock(&k->lock);
	i8042_reset_locked(k);
	k->irq_level = 0; /* a restored machine's line starts low: drive it again */
	k->ctr = ctr;
	k->pending_cmd = pending;
	k->kbd_cmd = kbd_cmd;
	k->last_was_cmd = last;
	for (int i = 0; i < count; i++)
		queue_byte(k, ur_u8(r));
	int ok = ur_done(r);
	if (!ok)
		i8042_reset_locked(k);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return ok ? 0 : -1;
}

const struct device_ops i8042_ops = {
    .name = "i8042",
    .version = 1,
    .read = i8042_read,
    .write = i8042_write,
    .reset = i8042_reset,
    .save = i8042_save,
    .load = i8042_load,
};

void i8042_init(struct i8042 *k, const struct machine_hooks *hooks)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->hooks = hooks;
	i8042_reset_locked(k);
}

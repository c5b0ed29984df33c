/* ib700 watchdog model: start/ping, stop, one-shot expiry on guest time. */
#include "ib700.h"

#include "../snapshot/unit.h"

#include <string.h>

#define OFF_STOP_END 2 /* offsets 0-1 (0x441-0x442) stop; 2-3 (0x443-0x444) start */
#define NS_PER_S 1000000000ull

static void ib700_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, 0xff, len); /* write-only ports */
}

static void ib700_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct ib700 *w = dev;
	(void)len;
	pthread_mutex_lock(&w->lock);
	if (off < OFF_STOP_END) {
		w->armed = 0;
	} else {
		w->period_ns = ib700_period_s(data[0]) * NS_PER_S;
		w->deadline = w->hooks->guest_time_ns(w->hooks->ctx) + w->period_ns;
		w->armed = 1;
	}
	pthread_mutex_unlock(&w->lock);
	w->hooks->timers_changed(w->hooks->ctx);
}

static void ib700_reset(void *dev)
{
	struct ib700 *w = dev;
	pthread_mutex_lock(&w->lock);
	w->armed = 0;
	w->period_ns = w->deadline = 0;
	pthread_mutex_unlock(&w->lock);
}

uint64_t ib700_next_deadline(struct ib700 *w)
{
	pthread_mutex_lock(&w->lock);
	uint64_t d = w->armed ? w->deadline : UINT64_MAX;
	pthread_mutex_unlock(&w->lock);
	return d;
}

int ib700_expire(struct ib700 *w, uint64_t now)
{
	pthread_mutex_lock(&w->lock);
	int fired = w->armed && now >= w->deadline;
	if (fired)
		w->armed = 0;
	pthread_mutex_unlock(&w->lock);
	return fired;
}

static void ib700_save(void *dev, struct unit_writer *w)
{
	struct ib700 *d = dev;
	pthread_mutex_lock(&d->lock);
	uint64_t now = d->hooks->guest_time_ns(d->hooks->ctx);
	uw_u8(w, d->armed);
	uw_u64(w, d->period_ns);
	/* Remaining guest time: guest clocks restart on restore. */
	uw_u64(w, d->armed && d->deadline > now ? d->deadline - now : 0);
	pthread_mutex_unlock(&d->lock);
}

static int ib700_load(void *dev, struct unit_reader *r, uint32_t version)
{
	struct ib700 *d = dev;
	if (version != 1)
		return -1;
	uint8_t armed = ur_u8(r);
	uint64_t period = ur_u64(r), remaining = ur_u64(r);
	if (!ur_done(r) || armed > 1 || period > 30 * NS_PER_S || remaining > period)
		return -1;
	pthread_mutex_lock(&d->lock);
	d->armed = armed;
	d->period_ns = period;
	d->deadline = d->hooks->guest_time_ns(d->hooks->ctx) + remaining;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

const struct device_ops ib700_ops = {
    .name = "ib700",
    .version = 1,
    .read = ib700_read,
    .write = ib700_write,
    .reset = ib700_reset,
    .save = ib700_save,
    .load = ib700_load,
};

void ib700_init(struct ib700 *w, const struct machine_hooks *hooks)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	w->hooks = hooks;
}

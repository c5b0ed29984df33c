/* Heartbeat pseudo-device: registers, READY/EXIT, session id, host clock. */
#include "heartbeat.h"

#include "../../snapshot/unit.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "heartbeat_regs.h"

static uint32_t hb_read_reg(struct heartbeat *hb, uint64_t reg)
{
	struct timespec ts;
	uint64_t t;
	switch (reg) {
	case HB_MAGIC:
		return HB_MAGIC_VALUE;
	case HB_VERSION:
		return 1;
	case HB_INTERVAL_MS:
		return hb->interval_ms;
	case HB_TIMEOUT_MS:
		return hb->timeout_ms;
	case HB_CONTROL:
		return hb->enabled ? HB_CONTROL_ENABLE : 0;
	case HB_STATUS:
		return (hb->enabled ? HB_STATUS_ACTIVE : 0) |
		       (hb->flatlined ? HB_STATUS_FLATLINED : 0);
	case HB_SESSION_LO:
		return (uint32_t)hb->session;
	case HB_SESSION_HI:
		return (uint32_t)(hb->session >> 32);
	case HB_HOST_TIME_LO:
		clock_gettime(CLOCK_REALTIME, &ts);
		t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		hb->host_time_hi = (uint32_t)(t >> 32);
		return (uint32_t)t;
	case HB_HOST_TIME_HI:
		return hb->host_time_hi;
	}
	return 0; /* write-only and unused offsets read 0 */
}

static void hb_beat(struct heartbeat *hb)
{
	uint64_t now = hb->hooks->guest_time_ns(hb->hooks->ctx);
	if (hb->flatlined) {
		char f[64];
		snprintf(f, sizeof(f), "\"silent_ms\":%llu",
			 (unsigned long long)((now - hb->last_beat) / 1000000));
		hb->flatlined = 0;
		hb->hooks->event(hb->hooks->ctx, "heartbeat-recovered", f);
	}
	hb->last_beat = now;
}

static void hb_write_reg(struct heartbeat *hb, uint64_t reg, uint32_t v)
{
	switch (reg) {
	case HB_CONTROL:
		if ((v & HB_CONTROL_ENABLE) && !hb->enabled)
			hb->last_beat = hb->hooks->guest_time_ns(hb->hooks->ctx);
		hb->enabled = v & HB_CONTROL_ENABLE;
		if (!hb->enabled)
			hb->flatlined = 0;
		break;
	case HB_BEAT:
		hb_beat(hb);
		break;
	case HB_READY:
		hb->hooks->guest_ready(hb->hooks->ctx);
		break;
	case HB_EXIT:
		hb->hooks->power_off(hb->hooks->ctx, (int)(v & 0xff), "guest wrote EXIT");
		break;
	default:
		break; /* read-only and unused offsets ignore writes */
	}
}

uint64_t heartbeat_next_deadline(struct heartbeat *hb)
{
	pthread_mutex_lock(&hb->lock);
	uint64_t d = UINT64_MAX;
	if (hb->enabled && !hb->flatlined && hb->timeout_ms)
		d = hb->last_beat + (uint64_t)hb->timeout_ms * 1000000ull;
	pthread_mutex_unlock(&hb->lock);
	return d;
}

int heartbeat_expire(struct heartbeat *hb, uint64_t now)
{
	char f[64];
	pthread_mutex_lock(&hb->lock);
	int fired = hb->enabled && !hb->flatlined && hb->timeout_ms &&
		    now >= hb->last_beat + (uint64_t)hb->timeout_ms * 1000000ull;
	if (fired) {
		hb->flatlined = 1;
		snprintf(f, sizeof(f), "\"since_beat_ms\":%llu",
			 (unsigned long long)((now - hb->last_beat) / 1000000));
	}
	pthread_mutex_unlock(&hb->lock);
	if (fired)
		hb->hooks->event(hb->hooks->ctx, "heartbeat-flatline", f);
	return fired;
}

static void heartbeat_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct heartbeat *hb = dev;
	pthread_mutex_lock(&hb->lock);
	uint64_t reg = off & ~3ull;
	uint64_t v = hb_read_reg(hb, reg);
	if (len == 8 && !(off & 7))
		v |= (uint64_t)hb_read_reg(hb, reg + 4) << 32;
	else
		v >>= 8 * (off & 3);
	le_put(data, len, v);
	pthread_mutex_unlock(&hb->lock);
}

static void heartbeat_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct heartbeat *hb = dev;
	/* Registers are 32-bit; narrower or unaligned stores are ignored. */
	if (len != 4 || (off & 3))
		return;
	pthread_mutex_lock(&hb->lock);
	hb_write_reg(hb, off, (uint32_t)le_get(data, 4));
	pthread_mutex_unlock(&hb->lock);
	if (off == HB_CONTROL || off == HB_BEAT)
		hb->hooks->timers_changed(hb->hooks->ctx);
}

static void heartbeat_reset(void *dev)
{
	struct heartbeat *hb = dev;
	pthread_mutex_lock(&hb->lock);
	hb->enabled = hb->flatlined = 0;
	hb->last_beat = 0;
	hb->host_time_hi = 0;
	pthread_mutex_unlock(&hb->lock);
}

void heartbeat_new_session(struct heartbeat *hb)
{
	uint64_t s = 0;
	while (s == 0)
		if (getrandom(&s, sizeof(s), 0) != sizeof(s))
			s = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	pthread_mutex_lock(&hb->lock);
	hb->session = s;
	pthread_mutex_unlock(&hb->lock);
}

static void heartbeat_save(void *dev, struct unit_writer *w)
{
	struct heartbeat *hb = dev;
	pthread_mutex_lock(&hb->lock);
	uint64_t now = hb->hooks->guest_time_ns(hb->hooks->ctx);
	uw_u8(w, hb->enabled);
	uw_u8(w, hb->flatlined);
	/* Guest time since the last beat; the clock itself restarts on restore. */
	uw_u64(w, hb->enabled ? now - hb->last_beat : 0);
	uw_u32(w, hb->host_time_hi);
	pthread_mutex_unlock(&hb->lock);
}

static int heartbeat_load(void *dev, struct unit_reader *r, uint32_t version)
{
	struct heartbeat *hb = dev;
	if (version != 1)
		return -1;
	uint8_t enabled = ur_u8(r), flatlined = ur_u8(r);
	uint64_t since_beat = ur_u64(r);
	uint32_t hi = ur_u32(r);
	if (!ur_done(r) || enabled > 1 || flatlined > enabled)
		return -1;
	pthread_mutex_lock(&hb->lock);
	uint64_t now = hb->hooks->guest_time_ns(hb->hooks->ctx);
	hb->enabled = enabled;
	hb->flatlined = flatlined;
	hb->last_beat = since_beat <= now ? now - since_beat : 0;
	hb->host_time_hi = hi;
	pthread_mutex_unlock(&hb->lock);
	return 0;
}

const struct device_ops heartbeat_ops = {
    .name = "heartbeat",
    .version = 1,
    .read = heartbeat_read,
    .write = heartbeat_write,
    .reset = heartbeat_reset,
    .save = heartbeat_save,
    .load = heartbeat_load,
};

void heartbeat_init(struct heartbeat *hb, const struct machine_hooks *hooks, uint32_t interval_ms,
		    uint32_t timeout_ms)
{
	memset(hb, 0, sizeof(*hb));
	pthread_mutex_init(&hb->lock, NULL);
	hb->hooks = hooks;
	hb->interval_ms = interval_ms;
	hb->timeout_ms = timeout_ms;
	heartbeat_new_session(hb);
}

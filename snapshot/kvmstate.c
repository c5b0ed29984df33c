/* vCPU and VM state for snapshots: capture, decode, compatibility, restore. */
#include "kvmstate.h"

#include "../log.h"

#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_CPUID 256
#define MAX_MSRS 512
#define MSR_IA32_TSC 0x10
#define MSR_TSC_DEADLINE 0x6e0
#define TSC_PPM_TOLERANCE 250 /* as QEMU and Firecracker: closer rates need no scaling */

/* MSRs that are guest state (Firecracker's list, FACTS.md 4.4); others are not saved. */
static int msr_saved(uint32_t i)
{
	static const uint32_t ranges[][2] = {
	    {0x10, 0x12},	      /* TSC, old kvmclock pair */
	    {0x1b, 0x1b},	      /* APIC base */
	    {0x3a, 0x3b},	      /* feature control, TSC adjust */
	    {0x48, 0x48},	      /* SPEC_CTRL */
	    {0x122, 0x122},	      /* TSX_CTRL */
	    {0x174, 0x176},	      /* SYSENTER */
	    {0x179, 0x17a},	      /* MCG_CAP, MCG_STATUS (not MCG_CTL) */
	    {0x1a0, 0x1a0},	      /* MISC_ENABLE */
	    {0x1d9, 0x1d9},	      /* DEBUGCTL */
	    {0x200, 0x2ff},	      /* MTRRs, PAT */
	    {0x400, 0x47f},	      /* machine-check banks */
	    {0x6e0, 0x6e0},	      /* TSC deadline */
	    {0xda0, 0xda0},	      /* XSS */
	    {0xc0000080, 0xc0000084}, /* EFER, STAR, LSTAR, CSTAR, SFMASK */
	    {0xc0000100, 0xc0000103}, /* FS/GS/kernel GS base, TSC_AUX */
	    {0x4b564d00, 0x4b564dff}, /* KVM paravirtual: kvmclock, async PF, steal time, PV EOI */
	};
	for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++)
		if (i >= ranges[k][0] && i <= ranges[k][1])
			return 1;
	return 0;
}

void kvm_snapshot_caps(struct vm *vm, uint32_t *caps, uint32_t *xsave_size)
{
	int x2 = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	*caps = 0;
	*xsave_size = 4096;
	if (x2 > 4096) {
		*caps |= SNAP_CAP_XSAVE2;
		*xsave_size = (uint32_t)x2;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0)
		*caps |= SNAP_CAP_TSC_CONTROL;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		*caps |= SNAP_CAP_XCRS;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0)
		*caps |= SNAP_CAP_DEBUGREGS;
}

/* The host's MSR index list filtered to guest state; computed once. */
static struct kvm_msr_list *saved_msr_list(struct vm *vm)
{
	static struct kvm_msr_list *list;
	if (list)
		return list;
	struct kvm_msr_list probe = {.nmsrs = 0};
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	uint32_t n = probe.nmsrs;
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + (n + 1) * sizeof(uint32_t));
	if (!l)
		return NULL;
	l->nmsrs = n;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return NULL;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < l->nmsrs && k < MAX_MSRS; i++)
		if (msr_saved(l->indices[i]))
			l->indices[k++] = l->indices[i];
	l->nmsrs = k;
	list = l;
	return list;
}

/* Read the listed MSRs; ones this vCPU refuses are dropped (KVM stops at the first). */
static int read_msrs(struct vcpu *v, struct kvm_msrs **out, char *err, size_t errlen)
{
	struct kvm_msr_list *l = saved_msr_list(v->vm);
	if (!l)
		return snap_fail(err, errlen, "KVM_GET_MSR_INDEX_LIST failed: %s", strerror(errno));
	struct kvm_msrs *m = calloc(1, sizeof(*m) + l->nmsrs * sizeof(m->entries[0]));
	if (!m)
		return snap_fail(err, errlen, "out of memory for MSRs");
	m->nmsrs = l->nmsrs;
	for (uint32_t i = 0; i < l->nmsrs; i++)
		m->entries[i].index = l->indices[i];
	for (;;) {
		int r = ioctl(v->fd, KVM_GET_MSRS, m);
		if (r < 0) {
			free(m);
			return snap_fail(err, errlen, "vCPU %d: KVM_GET_MSRS failed: %s", v->id,
					 strerror(errno));
		}
		if ((uint32_t)r == m->nmsrs)
			break;
		memmove(&m->entries[r], &m->entries[r + 1],
			(m->nmsrs - (uint32_t)r - 1) * sizeof(m->entries[0]));
		m->nmsrs--;
	}
	*out = m;
	return 0;
}

#define GET(req, what, p)                                                                          \
	do {                                                                                       \
		if (ioctl(v->fd, req, p) < 0)                                                      \
			return snap_fail(err, errlen, "vCPU %d: %s failed: %s", v->id, what,       \
					 strerror(errno));                                         \
	} while (0)

static int save_cpuid(struct vcpu *v, struct unit_writer *w, char *err, size_t errlen)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} c = {.h.nent = MAX_CPUID};
	GET(KVM_GET_CPUID2, "KVM_GET_CPUID2", &c);
	uw_u32(w, c.h.nent);
	uw_bytes(w, c.e, c.h.nent * sizeof(c.e[0]));
	return 0;
}

static int save_xsave(struct vcpu *v, struct unit_writer *w, char *err, size_t errlen)
{
	uint32_t caps, size;
	kvm_snapshot_caps(v->vm, &caps, &size);
	uint8_t *x = calloc(1, size);
	if (!x)
		return snap_fail(err, errlen, "out of memory for XSAVE");
	int r = ioctl(v->fd, size > 4096 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, x);
	if (r < 0) {
		free(x);
		return snap_fail(err, errlen, "vCPU %d: KVM_GET_XSAVE failed: %s", v->id,
				 strerror(errno));
	}
	uw_u32(w, size);
	uw_bytes(w, x, size);
	free(x);
	return 0;
}

int vcpu_state_save(struct vcpu *v, struct unit_writer *w, char *err, size_t errlen)
{
	struct vcpu_state s;
	memset(&s, 0, sizeof(s));
	/* MP_STATE first: reading it makes KVM accept pending INIT/SIPI. */
	GET(KVM_GET_MP_STATE, "KVM_GET_MP_STATE", &s.mp);
	GET(KVM_GET_REGS, "KVM_GET_REGS", &s.regs);
	GET(KVM_GET_SREGS, "KVM_GET_SREGS", &s.sregs);
	GET(KVM_GET_XCRS, "KVM_GET_XCRS", &s.xcrs);
	GET(KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", &s.dregs);
	GET(KVM_GET_LAPIC, "KVM_GET_LAPIC", &s.lapic);
	int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	struct kvm_msrs *m = NULL;
	if (save_cpuid(v, w, err, errlen))
		return -1;
	uw_bytes(w, &s.regs, sizeof(s.regs));
	uw_bytes(w, &s.sregs, sizeof(s.sregs));
	if (save_xsave(v, w, err, errlen))
		return -1;
	uw_bytes(w, &s.xcrs, sizeof(s.xcrs));
	uw_bytes(w, &s.dregs, sizeof(s.dregs));
	uw_bytes(w, &s.lapic, sizeof(s.lapic));
	if (read_msrs(v, &m, err, errlen))
		return -1;
	uw_u32(w, m->nmsrs);
	for (uint32_t i = 0; i < m->nmsrs; i++) {
		uw_u32(w, m->entries[i].index);
		uw_u64(w, m->entries[i].data);
	}
	free(m);
	/* Events last, with every vCPU parked. */
	GET(KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS", &s.events);
	uw_u32(w, s.mp.mp_state);
	uw_bytes(w, &s.events, sizeof(s.events));
	uw_u32(w, khz > 0 ? (uint32_t)khz : 0);
	return 0;
}

int vm_state_save(struct vm *vm, struct unit_writer *w, char *err, size_t errlen)
{
	struct vm_state s;
	memset(&s, 0, sizeof(s));
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s.pit) < 0)
		return snap_fail(err, errlen, "KVM_GET_PIT2 failed: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s.clock) < 0)
		return snap_fail(err, errlen, "KVM_GET_CLOCK failed: %s", strerror(errno));
	for (uint32_t i = 0; i < 3; i++) {
		s.chip[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s.chip[i]) < 0)
			return snap_fail(err, errlen, "KVM_GET_IRQCHIP %u failed: %s", i,
					 strerror(errno));
	}
	uw_bytes(w, &s.pit, sizeof(s.pit));
	uw_u64(w, s.clock.clock);
	for (int i = 0; i < 3; i++)
		uw_bytes(w, &s.chip[i].chip, sizeof(s.chip[i].chip));
	return 0;
}

/* ---- decode ---- */

void vcpu_state_free(struct vcpu_state *s)
{
	free(s->cpuid);
	free(s->xsave);
	free(s->msrs);
	s->cpuid = NULL;
	s->xsave = NULL;
	s->msrs = NULL;
}

static int decode_tail(struct unit_reader *r, struct vcpu_state *s, char *err, size_t errlen)
{
	ur_bytes(r, &s->xcrs, sizeof(s->xcrs));
	ur_bytes(r, &s->dregs, sizeof(s->dregs));
	ur_bytes(r, &s->lapic, sizeof(s->lapic));
	s->nmsrs = ur_u32(r);
	if (r->failed || s->nmsrs > MAX_MSRS)
		return snap_fail(err, errlen, "vCPU unit: %u MSRs (at most %d)", s->nmsrs,
				 MAX_MSRS);
	s->msrs = calloc(s->nmsrs + 1, sizeof(*s->msrs));
	if (!s->msrs)
		return snap_fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < s->nmsrs; i++) {
		s->msrs[i].index = ur_u32(r);
		s->msrs[i].data = ur_u64(r);
		if (!r->failed && !msr_saved(s->msrs[i].index))
			return snap_fail(err, errlen,
					 "vCPU unit: MSR 0x%x is not guest state vmm restores",
					 s->msrs[i].index);
	}
	s->mp.mp_state = ur_u32(r);
	ur_bytes(r, &s->events, sizeof(s->events));
	s->tsc_khz = ur_u32(r);
	if (!ur_done(r))
		return snap_fail(err, errlen, "vCPU unit is %s",
				 r->failed ? "truncated" : "too long");
	if (s->mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD)
		return snap_fail(err, errlen, "vCPU unit: MP state %u unknown", s->mp.mp_state);
	if (s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return snap_fail(err, errlen, "vCPU unit: %u XCRs", s->xcrs.nr_xcrs);
	return 0;
}

int vcpu_state_decode(const uint8_t *data, size_t len, struct vcpu_state *s, char *err,
		      size_t errlen)
{
	struct unit_reader r = {data, len, 0, 0};
	memset(s, 0, sizeof(*s));
	uint32_t nent = ur_u32(&r);
	if (r.failed || nent == 0 || nent > MAX_CPUID)
		return snap_fail(err, errlen, "vCPU unit: %u CPUID entries (1..%d)", nent,
				 MAX_CPUID);
	s->cpuid = calloc(1, sizeof(*s->cpuid) + nent * sizeof(s->cpuid->entries[0]));
	if (!s->cpuid)
		return snap_fail(err, errlen, "out of memory");
	s->cpuid->nent = nent;
	ur_bytes(&r, s->cpuid->entries, nent * sizeof(s->cpuid->entries[0]));
	ur_bytes(&r, &s->regs, sizeof(s->regs));
	ur_bytes(&r, &s->sregs, sizeof(s->sregs));
	s->xsave_size = ur_u32(&r);
	if (r.failed || s->xsave_size < 4096 || s->xsave_size > (1u << 20))
		return snap_fail(err, errlen, "vCPU unit: XSAVE size %u outside 4 KiB..1 MiB",
				 s->xsave_size);
	s->xsave = calloc(1, s->xsave_size);
	if (!s->xsave)
		return snap_fail(err, errlen, "out of memory");
	ur_bytes(&r, s->xsave, s->xsave_size);
	return decode_tail(&r, s, err, errlen);
}

int vm_state_decode(const uint8_t *data, size_t len, struct vm_state *s, char *err, size_t errlen)
{
	struct unit_reader r = {data, len, 0, 0};
	memset(s, 0, sizeof(*s));
	ur_bytes(&r, &s->pit, sizeof(s->pit));
	s->clock.clock = ur_u64(&r);
	for (uint32_t i = 0; i < 3; i++) {
		s->chip[i].chip_id = i;
		ur_bytes(&r, &s->chip[i].chip, sizeof(s->chip[i].chip));
	}
	if (!ur_done(&r))
		return snap_fail(err, errlen, "VM unit is %s", r.failed ? "truncated" : "too long");
	return 0;
}

/* ---- compatibility ---- */

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn,
						 uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (c->entries[i].index == idx ||
		     !(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return &c->entries[i];
	return NULL;
}

static uint32_t cpuid_reg(const struct kvm_cpuid_entry2 *e, uint32_t reg)
{
	if (!e)
		return 0;
	return reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;
}

/* Bits vmm sets itself, or KVM changes at run time, per feature word. */
static uint32_t feature_exempt(uint32_t word)
{
	switch (word) {
	case 0: /* CPUID.1:ECX: hypervisor, TSC deadline (ours), OSXSAVE (follows CR4) */
		return (1u << 31) | (1u << 24) | (1u << 27);
	case 1: /* CPUID.1:EDX: HTT (ours), APIC (follows the APIC base MSR) */
		return (1u << 28) | (1u << 9);
	case 3: /* CPUID.7.0:ECX: OSPKE follows CR4 */
		return 1u << 4;
	}
	return 0;
}

int vcpu_state_compatible(struct vm *vm, const struct vcpu_state *s, uint32_t xsave_size, char *err,
			  size_t errlen)
{
	const struct kvm_cpuid2 *host = kvm_supported_cpuid(vm);
	for (int w = 0; w < SNAP_NFEAT; w++) {
		const struct snap_feature_leaf *f = &snap_feature_leaves[w];
		uint32_t saved = cpuid_reg(cpuid_find(s->cpuid, f->leaf, f->index), f->reg);
		/*
		 * What KVM emulates, or what this CPU has: some KVMs (PVM) hand
		 * the guest host bits their supported list leaves out.
		 */
		unsigned r[4] = {0, 0, 0, 0};
		if ((uint32_t)__get_cpuid_max(f->leaf & 0x80000000u, NULL) >= f->leaf)
			__cpuid_count(f->leaf, f->index, r[0], r[1], r[2], r[3]);
		uint32_t have = cpuid_reg(cpuid_find(host, f->leaf, f->index), f->reg) | r[f->reg];
		uint32_t missing = saved & ~have & ~feature_exempt((uint32_t)w);
		if (missing) {
			int bit = __builtin_ctz(missing);
			return snap_fail(err, errlen,
					 "incompatible host: the guest uses %s bit %d, which "
					 "this host's KVM does not offer",
					 f->name, bit);
		}
	}
	if (s->xsave_size > xsave_size)
		return snap_fail(err, errlen,
				 "incompatible host: XSAVE state of %u bytes, this host's KVM "
				 "holds %u",
				 s->xsave_size, xsave_size);
	return 0;
}

/* ---- restore ---- */

#define SET(req, what, p)                                                                          \
	do {                                                                                       \
		if (ioctl(v->fd, req, p) < 0)                                                      \
			return snap_fail(err, errlen, "vCPU %d: %s failed: %s", v->id, what,       \
					 strerror(errno));                                         \
	} while (0)

static int restore_tsc_khz(struct vcpu *v, uint32_t saved, char *err, size_t errlen)
{
	int host = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	if (!saved || host <= 0)
		return 0;
	uint32_t h = (uint32_t)host;
	uint64_t diff = h > saved ? h - saved : saved - h;
	if (diff * 1000000ull <= (uint64_t)saved * TSC_PPM_TOLERANCE)
		return 0;
	if (ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)saved) < 0)
		return snap_fail(err, errlen,
				 "incompatible host: its TSC runs at %d kHz, the snapshot's at "
				 "%u kHz, and KVM cannot scale it (%s)",
				 host, saved, strerror(errno));
	return 0;
}

static int restore_msrs(struct vcpu *v, const struct vcpu_state *s, char *err, size_t errlen)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (s->nmsrs + 1) * sizeof(m->entries[0]));
	if (!m)
		return snap_fail(err, errlen, "out of memory");
	/* The TSC deadline is compared with the TSC when written: it goes last, alone. */
	struct kvm_msr_entry deadline = {0};
	int has_deadline = 0;
	for (uint32_t i = 0; i < s->nmsrs; i++) {
		if (s->msrs[i].index == MSR_TSC_DEADLINE) {
			deadline = s->msrs[i];
			has_deadline = 1;
		} else {
			m->entries[m->nmsrs++] = s->msrs[i];
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!has_deadline)
				break;
			m->nmsrs = 1;
			m->entries[0] = deadline;
		}
		int r = ioctl(v->fd, KVM_SET_MSRS, m);
		if (r != (int)m->nmsrs) {
			uint32_t bad = r >= 0 ? m->entries[r].index : 0;
			free(m);
			return snap_fail(err, errlen, "vCPU %d: KVM_SET_MSRS refused MSR 0x%x",
					 v->id, bad);
		}
	}
	free(m);
	return 0;
}

static int restore_xsave(struct vcpu *v, const struct vcpu_state *s, char *err, size_t errlen)
{
	uint32_t caps, size;
	kvm_snapshot_caps(v->vm, &caps, &size);
	uint8_t *x = calloc(1, size > s->xsave_size ? size : s->xsave_size);
	if (!x)
		return snap_fail(err, errlen, "out of memory");
	memcpy(x, s->xsave, s->xsave_size);
	int r = ioctl(v->fd, KVM_SET_XSAVE, x);
	free(x);
	if (r < 0)
		return snap_fail(err, errlen, "vCPU %d: KVM_SET_XSAVE failed: %s", v->id,
				 strerror(errno));
	return 0;
}

int vcpu_state_restore(struct vcpu *v, const struct vcpu_state *s, char *err, size_t errlen)
{
	if (restore_tsc_khz(v, s->tsc_khz, err, errlen))
		return -1;
	SET(KVM_SET_CPUID2, "KVM_SET_CPUID2", s->cpuid);
	SET(KVM_SET_MP_STATE, "KVM_SET_MP_STATE", &s->mp);
	SET(KVM_SET_REGS, "KVM_SET_REGS", &s->regs);
	SET(KVM_SET_SREGS, "KVM_SET_SREGS", &s->sregs);
	if (restore_xsave(v, s, err, errlen))
		return -1;
	SET(KVM_SET_XCRS, "KVM_SET_XCRS", &s->xcrs);
	SET(KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", &s->dregs);
	SET(KVM_SET_LAPIC, "KVM_SET_LAPIC", &s->lapic);
	if (restore_msrs(v, s, err, errlen))
		return -1;
	SET(KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS", &s->events);
	return 0;
}

int vm_state_restore(struct vm *vm, const struct vm_state *s, char *err, size_t errlen)
{
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return snap_fail(err, errlen, "KVM_SET_PIT2 failed: %s", strerror(errno));
	/* Flags 0: guest monotonic time continues from the saved value (FACTS.md 4.5). */
	struct kvm_clock_data c = {.clock = s->clock.clock};
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0)
		return snap_fail(err, errlen, "KVM_SET_CLOCK failed: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->chip[i]) < 0)
			return snap_fail(err, errlen, "KVM_SET_IRQCHIP %d failed: %s", i,
					 strerror(errno));
	return 0;
}

/*
 * KVM state of vCPUs and of the VM in snapshot units: capture (every vCPU
 * parked), decode and check (before any VM exists), and restore in the order
 * KVM needs (FACTS.md section 4.3).
 */
#ifndef VMM_SNAPSHOT_KVMSTATE_H
#define VMM_SNAPSHOT_KVMSTATE_H

#include "../vm.h"
#include "format.h"
#include "unit.h"

#include <linux/kvm.h>

#define VCPU_UNIT_VERSION 1
#define VM_UNIT_VERSION 1

struct vcpu_state {
	struct kvm_cpuid2 *cpuid;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint32_t xsave_size;
	uint8_t *xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_lapic_state lapic;
	uint32_t nmsrs;
	struct kvm_msr_entry *msrs;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
	uint32_t tsc_khz;
};

struct vm_state {
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct kvm_irqchip chip[3]; /* PIC master, PIC slave, IOAPIC */
};

/* Host facts for the header: KVM capability bits and the XSAVE buffer size. */
void kvm_snapshot_caps(struct vm *vm, uint32_t *caps, uint32_t *xsave_size);

/*
 * Append vCPU v's state to w (v parked). Returns 0, or -1 with a reason in
 * err when a KVM_GET_* ioctl fails.
 */
int vcpu_state_save(struct vcpu *v, struct unit_writer *w, char *err, size_t errlen);

/* Append the VM's irqchip, PIT and kvmclock state. Returns 0 or -1 with err. */
int vm_state_save(struct vm *vm, struct unit_writer *w, char *err, size_t errlen);

/*
 * Decode a vCPU unit into s (allocates; vcpu_state_free). Checks sizes and
 * ranges only. Returns 0, or -1 with a reason in err.
 */
int vcpu_state_decode(const uint8_t *data, size_t len, struct vcpu_state *s, char *err,
		      size_t errlen);
void vcpu_state_free(struct vcpu_state *s);

/* Decode a VM unit. Returns 0 or -1 with err. */
int vm_state_decode(const uint8_t *data, size_t len, struct vm_state *s, char *err, size_t errlen);

/*
 * Features of the saved CPUID this host's KVM cannot give (vendor, CPUID
 * feature words, XSAVE size): 0 when compatible, else -1 with the first
 * missing feature named in err.
 */
int vcpu_state_compatible(struct vm *vm, const struct vcpu_state *s, uint32_t xsave_size, char *err,
			  size_t errlen);

/* Put s into fresh vCPU v in KVM's order. Returns 0 or -1 with err. */
int vcpu_state_restore(struct vcpu *v, const struct vcpu_state *s, char *err, size_t errlen);

/* PIT, kvmclock, irqchips, after every vCPU is restored. Returns 0 or -1 with err. */
int vm_state_restore(struct vm *vm, const struct vm_state *s, char *err, size_t errlen);

#endif

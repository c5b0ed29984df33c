/* KVM plumbing: the VM, its memory slots, vCPU creation, CPUID, boot registers. */
#include "vm.h"

#include "boot/layout.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 4
#define APIC_MODE_EXTINT 7

static struct kvm_cpuid2 *supported_cpuid;

static void open_kvm(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT)
			die("/dev/kvm does not exist: this host has no KVM (load kvm_intel or "
			    "kvm_amd)");
		if (errno == EACCES || errno == EPERM)
			die("no permission to open /dev/kvm: run as root or join the kvm group");
		die_errno("cannot open /dev/kvm");
	}
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		die("/dev/kvm speaks KVM API version %d, vmm needs %d", api, KVM_API_VERSION);
}

int kvm_max_vcpus(struct vm *vm)
{
	if (vm->kvm_fd < 0)
		open_kvm(vm);
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (n <= 0)
		n = 4;
	return n < VMM_MAX_VCPUS ? n : VMM_MAX_VCPUS;
}

static void set_memory_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
	    .slot = slot,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die_errno("KVM_SET_USER_MEMORY_REGION slot %u at 0x%llx (%llu bytes) failed", slot,
			  (unsigned long long)gpa, (unsigned long long)size);
}

void kvm_create_vm(struct vm *vm)
{
	if (vm->kvm_fd < 0)
		open_kvm(vm);
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		die_errno("KVM_CREATE_VM failed");
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE returned %d", vm->run_size);
	/*
	 * Memory slots before the irqchip: once an in-kernel irqchip exists,
	 * every slot change waits for an SRCU grace period (5-7 ms here).
	 */
	if (!vm->mem.host && mem_map_anonymous(&vm->mem) < 0)
		die_errno("cannot map %llu MiB of guest RAM",
			  (unsigned long long)(vm->mem.size >> 20));
	uint64_t t0 = now_ns();
	set_memory_slot(vm, 0, 0, vm->mem.low_size, vm->mem.host);
	if (vm->mem.high_size)
		set_memory_slot(vm, 1, MMIO_GAP_END, vm->mem.high_size,
				vm->mem.host + vm->mem.low_size);
	vm->slot_ns = now_ns() - t0;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		die_errno("KVM_SET_TSS_ADDR 0x%llx failed", KVM_TSS_ADDR);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die_errno("KVM_CREATE_IRQCHIP failed");
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die_errno("KVM_CREATE_PIT2 failed");
}

void kvm_destroy_vm(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		munmap(v->run, (size_t)vm->run_size);
		close(v->fd);
		v->fd = -1;
		v->run = NULL;
	}
	close(vm->vm_fd);
	vm->vm_fd = -1;
}

static void load_supported_cpuid(struct vm *vm)
{
	if (vm->kvm_fd < 0)
		open_kvm(vm);
	for (int n = 128; !supported_cpuid; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (!c)
			die("out of memory for CPUID");
		c->nent = (uint32_t)n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			supported_cpuid = c;
		} else {
			free(c);
			if (errno != E2BIG || n > 4096)
				die_errno("KVM_GET_SUPPORTED_CPUID failed");
		}
	}
}

static uint32_t ceil_log2(uint32_t n)
{
	uint32_t s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

/* Give vCPU id its own APIC id and an honest picture of ncpus cores. */
static void cpuid_patch(struct kvm_cpuid_entry2 *e, uint32_t id, uint32_t ncpus)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (id << 24) | ((ncpus > 1 ? ncpus : 1) << 16);
		e->ecx |= 1u << 31; /* running under a hypervisor */
		e->ecx |= 1u << 24; /* TSC deadline timer, emulated by the in-kernel LAPIC */
		if (ncpus > 1)
			e->edx |= 1u << 28; /* HTT: more than one logical CPU */
		break;
	case 4:
		e->eax = (e->eax & 0x3ffu) | ((ncpus - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		/* One thread per core, ncpus cores in one package. */
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8);
		} else if (e->index == 1) {
			e->eax = ceil_log2(ncpus);
			e->ebx = ncpus;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		e->edx = id;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffu) | (ncpus - 1) | (ceil_log2(ncpus) << 12);
		break;
	}
}

static void vcpu_set_cpuid(struct vcpu *v)
{
	struct vm *vm = v->vm;
	if (!supported_cpuid)
		load_supported_cpuid(vm);
	size_t sz =
	    sizeof(*supported_cpuid) + supported_cpuid->nent * sizeof(supported_cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		die("out of memory for CPUID");
	memcpy(c, supported_cpuid, sz);
	for (uint32_t i = 0; i < c->nent; i++)
		cpuid_patch(&c->entries[i], (uint32_t)v->id, (uint32_t)vm->ncpus);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		die_errno("vCPU %d: KVM_SET_CPUID2 failed", v->id);
	free(c);
}

static void vcpu_set_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} m = {.hdr.nmsrs = 2,
	       .e = {{.index = MSR_IA32_MISC_ENABLE, .data = 1 /* fast strings */},
		     {.index = MSR_MTRR_DEF_TYPE, .data = (1u << 11) | 6 /* MTRRs on, WB */}}};
	int n = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (n != 2)
		vmm_log("vCPU %d: KVM_SET_MSRS set %d of 2 boot MSRs (continuing)", v->id, n);
}

static void vcpu_set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		die_errno("vCPU %d: KVM_GET_LAPIC failed", v->id);
	uint32_t *lint0 = (uint32_t *)(l.regs + APIC_LVT_LINT0);
	uint32_t *lint1 = (uint32_t *)(l.regs + APIC_LVT_LINT1);
	*lint0 = (*lint0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		die_errno("vCPU %d: KVM_SET_LAPIC failed", v->id);
}

const struct kvm_cpuid2 *kvm_supported_cpuid(struct vm *vm)
{
	if (!supported_cpuid)
		load_supported_cpuid(vm);
	return supported_cpuid;
}

void vcpu_open(struct vm *vm, int id)
{
	struct vcpu *v = &vm->vcpus[id];
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		die_errno("KVM_CREATE_VCPU %d failed", id);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die_errno("vCPU %d: mmap of kvm_run failed", id);
}

void vcpu_create(struct vm *vm, int id)
{
	struct vcpu *v = &vm->vcpus[id];
	vcpu_open(vm, id);
	vcpu_set_cpuid(v);
	vcpu_set_msrs(v);
	vcpu_set_lapic(v);
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, int code64)
{
	*s = (struct kvm_segment){.base = 0,
				  .limit = 0xffffffff,
				  .selector = sel,
				  .type = type,
				  .present = 1,
				  .dpl = 0,
				  .db = code64 ? 0 : 1,
				  .s = 1,
				  .l = code64 ? 1 : 0,
				  .g = 1};
}

void vcpu_set_boot_state(struct vcpu *v, const struct kernel_image *img)
{
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		die_errno("vCPU %d: KVM_GET_SREGS failed", v->id);
	int long64 = img->mode == ENTRY_LONG64;
	flat_segment(&sregs.cs, 0x10, 0xb, long64);
	flat_segment(&sregs.ds, 0x18, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
	    .base = 0, .limit = 0x67, .selector = 0x20, .type = 0xb, .present = 1};
	sregs.gdt.base = BOOT_GDT;
	sregs.gdt.limit = 6 * 8 - 1;
	sregs.idt.base = BOOT_IDT;
	sregs.idt.limit = 7;
	if (long64) {
		sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
		sregs.cr3 = BOOT_PML4;
		sregs.cr4 = 0x20;   /* PAE */
		sregs.efer = 0x500; /* LMA LME */
	} else {
		sregs.cr0 = 0x11; /* ET PE: PVH wants no paging */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		die_errno("vCPU %d: KVM_SET_SREGS failed", v->id);

	struct kvm_regs regs = {.rflags = 0x2, .rip = img->entry};
	if (long64) {
		regs.rsi = BOOT_ZERO_PAGE;
		regs.rsp = regs.rbp = BOOT_STACK;
	} else {
		regs.rbx = BOOT_START_INFO;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		die_errno("vCPU %d: KVM_SET_REGS failed", v->id);

	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		die_errno("vCPU %d: KVM_SET_FPU failed", v->id);
}
